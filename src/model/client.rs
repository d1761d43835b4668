//! A client: what it is (its fields, its random stream, its states of the
//! catalog's updates, its queue of state messages) and what it does (scans,
//! downloads, installs and restarts, one at a time, each ending in state
//! messages).
//!
//! Owns [`Clients`] and the client's decisions: what to do next
//! ([`World::next_action`]), what a scan finds, when an Available update's
//! user starts it, whether an install waits for a maintenance window, fails
//! or needs a restart, and when the restart happens. A client does one
//! thing at a time; work that comes due while it is busy or off waits for
//! the next free moment. Where its fields sit in memory is the store's
//! business (`store/clients.rs`): a field most events read goes into
//! [`Client`], any other into [`ClientCold`].

use std::ops::{Index, IndexMut};

use rand::Rng;

use super::compliance::{
    self, ENFORCE_DOWNLOADED, ENFORCE_DOWNLOADING, ENFORCE_FAILED, ENFORCE_INSTALLING,
    ENFORCE_PENDING_RESTART, ENFORCE_SUCCESS, ENFORCE_WAITING_WINDOW, Phase, SCAN_COMPLETED,
    SCAN_FAILED, StateMsg, TOPIC_COMPLIANCE, TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_EVALUATION,
    TOPIC_SCAN, TOPIC_UPDATE_ENFORCEMENT, Truth, UPDATE_DOWNLOADING, UPDATE_FAILED,
    UPDATE_INSTALLED, UPDATE_INSTALLING, UPDATE_PENDING_RESTART, UPDATE_WAITING_CONTENT,
    detection_compliance,
};
use super::content::DownloadFailure;
use super::events::Event;
use super::family;
use super::record::Timing;
use super::servers::Request;
use super::store::{AnswerSettled, ClientTable, Database, NewClient, Offer, Outboxes, Touched};
use super::trace::TraceEvent;
use super::update_point::ScanCause;
use super::update_point::ScanFailure;
use super::windows::{Schedule, next_restart, too_long};
use super::world::World;
use crate::engine::{
    CounterRng, CounterSession, PeriodicId, Scheduler, SimDuration, SimTime, Streams, TimerId,
};
use crate::estate::{
    ClientId, ClientKind, CohortId, DeploymentId, Estate, NO_SUSDB, Purpose, UpdateId,
};

/// What a client is doing right now (at most one thing at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Idle,
    Scan,
    /// Asking its MP which DPs hold a deployment's content, the first step
    /// of its download.
    Locate(DeploymentId),
    Download(DeploymentId),
    Install(DeploymentId),
    Restart,
}

/// Why a client restarts (for the totals and the trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartCause {
    /// The user: at a restart notification before the countdown ran out,
    /// or in their own time when not notified.
    User,
    /// The countdown ran out.
    Forced,
    /// In a maintenance window: at once after an install in it, or, for a
    /// suppressed restart, when the client's next window opens.
    #[serde(rename = "maintenance_window")]
    InWindow,
    /// The administrator's scheduled restart.
    Scheduled,
}

/// A client's fields that most of its events read. (Its cohort, what it
/// has learned of its site's policy, its MP failures, its last scan report
/// and its state-message serial numbers are the store's hot bytes; whether it is on, has a policy request
/// out, polls, and is up to date are its poll word: see [`Clients`].)
pub(crate) struct Client {
    /// Where it is in its random stream, in 32-bit words (a stored
    /// generator would be 320 bytes a client; the stream itself follows
    /// from the seed and the client's index, see [`Clients::rng`]).
    pub(crate) draws: u64,
    pub(crate) action_timer: Option<TimerId>,
    pub(crate) restart_timer: Option<TimerId>,
    pub(crate) action_started: SimTime,
    /// When it last sent a batch at a reporting tick (`MAX`: never).
    pub(crate) last_batch: SimTime,
    /// When the next scheduled or first scan is due (`MAX`: none).
    pub(crate) scan_due: SimTime,
    /// Since when a restart has been pending (`MAX`: none).
    pub(crate) restart_pending_since: SimTime,
    pub(crate) batches: u32,
    pub(crate) action: Action,
    /// Its domain GPO names another update server.
    pub(crate) gpo_conflict: bool,
    /// Windows Fast Startup is on: a shutdown does not complete a pending
    /// restart.
    pub(crate) fast_startup: bool,
    /// A deployment re-evaluation is due.
    pub(crate) reevaluation_due: bool,
    /// The restart notification ran out while it was busy installing.
    pub(crate) restart_waiting: bool,
    /// Why the planned restart happens.
    pub(crate) restart_cause: RestartCause,
    /// It was switched off with an install pending restart: the next
    /// power-on completes the restart.
    pub(crate) restarted_by_shutdown: bool,
    /// A power-off came while installing; it happens when the install ends.
    pub(crate) power_off_waiting: bool,
    /// Which scan or content location attempt is current (server answers
    /// to older ones are ignored).
    pub(crate) scan_token: u32,
    /// The WSUS database of the SUP it last scanned against (`NO_SUSDB`:
    /// none): a scan against a SUP with another database is a full scan.
    pub(crate) scanned_susdb: u16,
    /// Position in its cohort's SUP list.
    pub(crate) sup_index: u8,
    /// Failed scan tries against the current SUP in a row.
    pub(crate) sup_failures: u8,
    /// It must ask its MP where its SUP is before scanning.
    pub(crate) needs_location: bool,
    /// Why the running scan runs (all but a verification fetch metadata
    /// from the SUP).
    pub(crate) scan_cause: ScanCause,
    /// The running scan is also the scheduled scan (which runs again if
    /// this one does not finish).
    pub(crate) scan_scheduled: bool,
    /// A batch is with its MP.
    pub(crate) batch_in_flight: bool,
    /// Its reporting cycle's offset, ms: ticks at `phase + k·interval`.
    pub(crate) report_phase: u32,
    /// A reporting tick is scheduled for it.
    pub(crate) report_armed: bool,
    /// Its policy polls: a periodic timer (made in [`World::start`]) at
    /// `poll_phase + k·interval` ms.
    pub(crate) poll_timer: Option<PeriodicId>,
    pub(crate) poll_phase: u32,
}

/// A client's fields that few events read: they live apart from its
/// [`Client`] fields, so that they cost the others nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientCold {
    /// When its planned restart happens (valid while its `restart_timer`
    /// is set): read only when a restart is planned again.
    pub(crate) restart_at: SimTime,
    /// When the scan that fetched its software updates metadata began:
    /// the updates its site had then are the ones its offline scans see.
    pub(crate) catalog_at: SimTime,
    /// Until when that metadata is inside the scan time to live (zero:
    /// never fetched, or expired before the start).
    pub(crate) ttl_until: SimTime,
    /// Its Windows Update agent is broken: every scan fails.
    pub(crate) broken_agent: bool,
    /// Its site found a gap in its serial numbers and asks it to resend
    /// its full state (with its next policy answer).
    pub(crate) resync_requested: bool,
    /// A gap in its messages waits for the state system's resync check
    /// (its [`Event::ResyncDue`] is scheduled).
    pub(crate) gap_waiting: bool,
    /// The last scan state (topic 501) it queued, for a resync (kept only
    /// where batches can be lost).
    pub(crate) scan_sent: u8,
    /// It gets content from peer cache sources of its cohort, and is one.
    pub(crate) peer_cache: bool,
    /// It downloads express content where an update has it.
    pub(crate) express: bool,
    /// Co-managed, with the Windows Update policies workload on Intune:
    /// Windows Update for Business patches it, and the deployments'
    /// updates stay Unknown to the site.
    pub(crate) co_managed: bool,
    /// The management point it uses: 0 its cohort's own, `k` the `k`-th
    /// of the cohort's fallbacks (read only while its `ELSEWHERE` flag is
    /// set).
    pub(crate) mp_at: u8,
    /// Since when it has been enforcing the deadline of deployment
    /// `enforcing` (`MAX`: none): the moment it first went to install it
    /// after its deadline, from which the restart countdown counts. An
    /// install's end, or a switch-off, ends it. (Two fields rather than an
    /// `Option` of a pair: 16 bytes a client less.)
    pub(crate) enforcing_since: SimTime,
    pub(crate) enforcing: DeploymentId,
    /// Its last install left nothing pending: the state the verification
    /// scan that follows finds goes out within two minutes of it
    /// ([`World::plan_install_report`]).
    pub(crate) report_after_scan: bool,
}

impl Default for ClientCold {
    fn default() -> Self {
        ClientCold {
            restart_at: SimTime::MAX,
            catalog_at: SimTime::ZERO,
            ttl_until: SimTime::ZERO,
            broken_agent: false,
            resync_requested: false,
            gap_waiting: false,
            scan_sent: 0,
            peer_cache: false,
            express: false,
            co_managed: false,
            mp_at: 0,
            enforcing_since: SimTime::MAX,
            enforcing: DeploymentId(0),
            report_after_scan: false,
        }
    }
}

/// One client's state of one update: what is true, what it last queued,
/// and what its site's and the CAS's databases hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UpdateState {
    /// What is really on the client.
    pub(crate) truth: Truth,
    /// The site database's detection state (topic 500 ids).
    pub(crate) reported: u8,
    /// The detection state the client last queued: clients send detection
    /// messages only for changes.
    pub(crate) sent: u8,
    /// The CAS database's detection state (a hierarchy only; else unused).
    pub(crate) cas_reported: u8,
}

/// A client's random stream at its stored position (see [`Clients::rng`]);
/// the position is written back when it is dropped.
pub(crate) struct ClientRng<'a> {
    rng: CounterRng,
    draws: &'a mut u64,
}

impl ClientRng<'_> {
    /// Several draws through one ChaCha block (see [`CounterRng::session`]).
    pub(crate) fn session(&mut self) -> CounterSession<'_> {
        self.rng.session()
    }
}

impl Drop for ClientRng<'_> {
    fn drop(&mut self) {
        *self.draws = self.rng.word_pos();
    }
}

impl rand::RngCore for ClientRng<'_> {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.rng.fill_bytes(dest)
    }
}

/// Every client: its fields (indexed by [`ClientId`]), its flags, its
/// states of the updates, its queue of state messages, and the per-update
/// counts over all clients, true and reported.
pub(crate) struct Clients {
    table: ClientTable,
    outboxes: Outboxes,
    update_truth: Vec<[u32; 4]>,
    update_reported: Vec<[u32; 4]>,
    streams: Streams,
    /// Its updates whose truth or reports changed, and scan reports that
    /// changed ([`SCAN_TOUCHED`]), since its cells were last refreshed.
    touched: Touched,
}

/// A note in [`Clients::take_touched`]: a client's scan report changed,
/// which every deployment's reported cell reads.
pub(crate) const SCAN_TOUCHED: u16 = u16::MAX;

impl Clients {
    /// The estate's clients, numbered across cohorts in file order, with
    /// which updates apply to each and whether its GPO conflicts (drawn
    /// from its own applicability stream). Returns them, the GPO
    /// conflicts per cohort and the co-managed clients per cohort.
    pub(crate) fn new(estate: &Estate, streams: Streams) -> (Self, Vec<u32>, Vec<u32>) {
        let n_clients = estate.client_count() as usize;
        let n_updates = estate.updates.len();
        let synced_at = estate.initially_synced_at();
        let mut table = ClientTable::with_capacity(n_clients, n_updates);
        let mut gpo_conflicts = vec![0; estate.cohorts.len()];
        let mut co_managed_counts = vec![0; estate.cohorts.len()];
        for (k, cohort) in estate.cohorts.iter().enumerate() {
            for i in 0..cohort.count {
                let id = u64::from(cohort.first_client + i);
                let mut draws = streams.stream(family::APPLICABILITY, id);
                let gpo_conflict = draws.random::<f64>() < cohort.gpo_conflict;
                gpo_conflicts[k] += u32::from(gpo_conflict);
                let fast_startup = draws.random::<f64>() < cohort.fast_startup;
                // Drawn only where the share is set, so that scenarios
                // without co-managed clients keep their draws.
                let co_managed =
                    cohort.co_managed > 0.0 && draws.random::<f64>() < cohort.co_managed;
                co_managed_counts[k] += u32::from(co_managed);
                let updates = estate.updates.iter().map(|u| {
                    let draw: f64 = draws.random();
                    let truth = if gpo_conflict || co_managed {
                        Truth::Unmanaged
                    } else if draw < u.applicability {
                        Truth::Missing
                    } else {
                        Truth::NotRequired
                    };
                    UpdateState {
                        truth,
                        reported: compliance::DETECTION_UNKNOWN,
                        sent: compliance::DETECTION_UNKNOWN,
                        cas_reported: compliance::DETECTION_UNKNOWN,
                    }
                });
                let client = Client {
                    draws: 0,
                    action_timer: None,
                    restart_timer: None,
                    action_started: SimTime::ZERO,
                    last_batch: SimTime::MAX,
                    scan_due: SimTime::MAX,
                    restart_pending_since: SimTime::MAX,
                    batches: 0,
                    action: Action::Idle,
                    gpo_conflict,
                    fast_startup,
                    reevaluation_due: false,
                    restart_waiting: false,
                    restart_cause: RestartCause::User,
                    restarted_by_shutdown: false,
                    power_off_waiting: false,
                    scan_token: 0,
                    scanned_susdb: if estate.sync.initially_synced {
                        estate.update_points[cohort.sups[0].index()].susdb
                    } else {
                        NO_SUSDB
                    },
                    sup_index: 0,
                    sup_failures: 0,
                    needs_location: false,
                    scan_cause: ScanCause::Schedule,
                    scan_scheduled: false,
                    batch_in_flight: false,
                    report_phase: 0,
                    report_armed: false,
                    poll_timer: None,
                    poll_phase: 0,
                };
                table.push(
                    NewClient {
                        cohort: CohortId(k as u16),
                        has_update_policy: estate.sync.initially_synced,
                        client,
                    },
                    updates,
                );
                // Drawn only where the share is set, so that scenarios
                // without broken agents keep their draws.
                if cohort.broken_agent > 0.0 {
                    let broken = draws.random::<f64>() < cohort.broken_agent;
                    table.cold_mut(ClientId(id as u32)).broken_agent = broken;
                }
                if cohort.content.peer_cache > 0.0 {
                    let peer = draws.random::<f64>() < cohort.content.peer_cache;
                    table.cold_mut(ClientId(id as u32)).peer_cache = peer;
                }
                if co_managed {
                    table.cold_mut(ClientId(id as u32)).co_managed = true;
                }
                if cohort.content.express > 0.0 {
                    let express = draws.random::<f64>() < cohort.content.express;
                    table.cold_mut(ClientId(id as u32)).express = express;
                }
            }
        }
        // The site already holds every managed client's state for updates
        // synced before the start.
        let mut update_truth = vec![[0u32; 4]; n_updates];
        let mut update_reported = vec![[0u32; 4]; n_updates];
        for (slot, s) in table.all_updates_mut().iter_mut().enumerate() {
            let u = slot % n_updates;
            if synced_at[u] == SimTime::ZERO {
                s.reported = s.truth.detection_state();
            }
            // The CAS's database starts as the primaries' (a hierarchy).
            s.cas_reported = s.reported;
            s.sent = s.reported;
            update_truth[u][s.truth.compliance() as usize] += 1;
            update_reported[u][detection_compliance(s.reported) as usize] += 1;
        }
        let clients = Clients {
            table,
            outboxes: Outboxes::new(n_clients),
            update_truth,
            update_reported,
            streams,
            touched: Touched::default(),
        };
        (clients, gpo_conflicts, co_managed_counts)
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The store's table and queues, for the hints.
    pub(super) fn store(&self) -> (&ClientTable, &Outboxes) {
        (&self.table, &self.outboxes)
    }

    /// Client `c`'s random stream (the `CLIENT` family, its index) at its
    /// position; draws move the position on.
    pub(crate) fn rng(&mut self, c: ClientId) -> ClientRng<'_> {
        let rng = self.stream(c);
        ClientRng {
            rng,
            draws: &mut self.table.get_mut(c).draws,
        }
    }

    /// The same stream as a value; whoever draws from it stores its
    /// position back with [`set_stream_position`](Self::set_stream_position).
    pub(crate) fn stream(&self, c: ClientId) -> CounterRng {
        self.streams
            .counter(family::CLIENT, u64::from(c.0))
            .with_word_pos(self.table.get(c).draws)
    }

    /// Stores where client `c`'s stream is (see [`stream`](Self::stream)).
    pub(crate) fn set_stream_position(&mut self, c: ClientId, rng: &CounterRng) {
        self.table.get_mut(c).draws = rng.word_pos();
    }

    /// Its rarely read fields.
    pub(crate) fn cold(&self, c: ClientId) -> &ClientCold {
        self.table.cold(c)
    }

    /// Its rarely read fields, to change.
    pub(crate) fn cold_mut(&mut self, c: ClientId) -> &mut ClientCold {
        self.table.cold_mut(c)
    }

    /// Its cohort.
    #[inline]
    pub(crate) fn cohort(&self, c: ClientId) -> CohortId {
        self.table.cohort(c)
    }

    /// Whether it is switched on.
    #[inline]
    pub(crate) fn online(&self, c: ClientId) -> bool {
        self.table.online(c)
    }

    /// Switches it on or off, once its own silent answer is applied.
    #[inline]
    pub(crate) fn set_online(&mut self, c: ClientId, on: bool, settled: &AnswerSettled) {
        self.table.set_online(c, on, settled);
    }

    /// Sets whether it is on at the start, before any request is out.
    pub(crate) fn set_online_at_start(&mut self, c: ClientId, on: bool) {
        self.table.set_online_at_start(c, on);
    }

    /// Whether a policy request of its is out, once its own silent answer
    /// is applied.
    #[inline]
    pub(crate) fn request_out(&self, c: ClientId, settled: &AnswerSettled) -> bool {
        self.table.request_out(c, settled)
    }

    /// A policy request of its goes out, or its answer (or failure) comes.
    #[inline]
    pub(crate) fn set_request_out(&mut self, c: ClientId, out: bool) {
        self.table.set_request_out(c, out);
    }

    /// Whether its periodic poll chain is running.
    #[inline]
    pub(crate) fn polling(&self, c: ClientId) -> bool {
        self.table.polling(c)
    }

    /// Whether it uses another management point than its cohort's own.
    #[inline]
    pub(crate) fn elsewhere(&self, c: ClientId) -> bool {
        self.table.elsewhere(c)
    }

    /// It moves to another management point (`true`) or back to its own.
    #[inline]
    pub(crate) fn set_elsewhere(&mut self, c: ClientId, on: bool) {
        self.table.set_elsewhere(c, on);
    }

    /// Its poll chain stops (it is off) or runs again.
    #[inline]
    pub(crate) fn set_polling(&mut self, c: ClientId, on: bool) {
        self.table.set_polling(c, on);
    }

    /// Whether it has everything its site has published (an answer to its
    /// policy request would be empty).
    #[inline]
    pub(crate) fn current(&self, c: ClientId) -> bool {
        self.table.current(c)
    }

    /// Records whether it has everything its site has published.
    #[inline]
    pub(crate) fn set_current(&mut self, c: ClientId, current: bool) {
        self.table.set_current(c, current);
    }

    /// Whether its polls are counted, not simulated.
    #[inline]
    pub(crate) fn quiet(&self, c: ClientId) -> bool {
        self.table.quiet(c)
    }

    /// Its polls are counted from now, or simulated again.
    #[inline]
    pub(crate) fn set_quiet(&mut self, c: ClientId, on: bool) {
        self.table.set_quiet(c, on);
    }

    /// Whether it has the software updates policy.
    #[inline]
    pub(crate) fn has_update_policy(&self, c: ClientId) -> bool {
        self.table.has_update_policy(c)
    }

    /// It receives the software updates policy.
    pub(crate) fn grant_update_policy(&mut self, c: ClientId) {
        self.table.grant_update_policy(c);
    }

    /// How many of its site's published deployments it has learned.
    #[inline]
    pub(crate) fn known_deployments(&self, c: ClientId) -> usize {
        self.table.known_deployments(c)
    }

    /// It has learned the first `n` of its site's published deployments.
    pub(crate) fn set_known_deployments(&mut self, c: ClientId, n: usize) {
        self.table.set_known_deployments(c, n);
    }

    /// Counts one more MP failure in a row; returns how many there were
    /// before it.
    pub(crate) fn count_mp_failure(&mut self, c: ClientId) -> u8 {
        self.table.count_mp_failure(c)
    }

    /// It reached its MP: its failures in a row start again.
    #[inline]
    pub(crate) fn clear_mp_failures(&mut self, c: ClientId) {
        self.table.clear_mp_failures(c);
    }

    /// Its last scan report in `db`.
    #[inline]
    pub(crate) fn reported_scan(&self, c: ClientId, db: Database) -> u8 {
        self.table.reported_scan(c, db)
    }

    /// A scan report of its reaches `db`.
    #[inline]
    pub(crate) fn set_reported_scan(&mut self, c: ClientId, db: Database, state: u8) {
        if self.table.reported_scan(c, db) != state {
            self.touched.note(c, SCAN_TOUCHED);
        }
        self.table.set_reported_scan(c, db, state);
    }

    /// The serial number of its next state message: every message it hands
    /// its MP takes the next.
    #[inline]
    pub(crate) fn next_serial(&self, c: ClientId) -> u32 {
        self.table.next_serial(c)
    }

    /// Sets the serial number of its next state message.
    #[inline]
    pub(crate) fn set_next_serial(&mut self, c: ClientId, serial: u32) {
        self.table.set_next_serial(c, serial);
    }

    /// The serial number its site's state system expects next from it.
    #[inline]
    pub(crate) fn expected_serial(&self, c: ClientId) -> u32 {
        self.table.expected_serial(c)
    }

    /// Sets the serial number its site expects next from it.
    #[inline]
    pub(crate) fn set_expected_serial(&mut self, c: ClientId, serial: u32) {
        self.table.set_expected_serial(c, serial);
    }

    /// Whether the `k`-th batch its MP took (from 0) is lost on the way to
    /// the site database, with probability `loss`: from its own
    /// `STATE_LOSS` stream, at a place fixed by `k`, so that it depends on
    /// nothing else the client draws.
    pub(crate) fn batch_lost(&self, c: ClientId, k: u32, loss: f64) -> bool {
        let mut rng = (self.streams)
            .counter(family::STATE_LOSS, u64::from(c.0))
            .with_word_pos(2 * u64::from(k));
        rng.random::<f64>() < loss
    }

    /// Its states of every update, in update order.
    #[inline]
    pub(crate) fn updates(&self, c: ClientId) -> &[UpdateState] {
        self.table.updates(c)
    }

    /// Its state of update `u`.
    #[inline]
    pub(crate) fn update(&self, c: ClientId, u: UpdateId) -> &UpdateState {
        self.table.update(c, u.index())
    }

    /// Its state of update `u`, to change (not its truth or its site's
    /// report, which keep counts: see [`set_truth`](Self::set_truth)).
    #[inline]
    pub(crate) fn update_mut(&mut self, c: ClientId, u: UpdateId) -> &mut UpdateState {
        self.table.update_mut(c, u.index())
    }

    /// Sets its true state of one update, keeping the counts right.
    pub(crate) fn set_truth(&mut self, c: ClientId, u: UpdateId, t: Truth) {
        let old = std::mem::replace(&mut self.table.update_mut(c, u.index()).truth, t);
        self.touched.note(c, u.0);
        let counts = &mut self.update_truth[u.index()];
        counts[old.compliance() as usize] -= 1;
        counts[t.compliance() as usize] += 1;
    }

    /// Sets its site database's detection state of one update.
    pub(crate) fn set_reported(&mut self, c: ClientId, u: UpdateId, state: u8) {
        let old = std::mem::replace(&mut self.table.update_mut(c, u.index()).reported, state);
        self.touched.note(c, u.0);
        let counts = &mut self.update_reported[u.index()];
        counts[detection_compliance(old) as usize] -= 1;
        counts[detection_compliance(state) as usize] += 1;
    }

    /// Sets the CAS database's detection state of one update (a
    /// hierarchy).
    pub(crate) fn set_cas_reported(&mut self, c: ClientId, u: UpdateId, state: u8) {
        self.table.update_mut(c, u.index()).cas_reported = state;
        self.touched.note(c, u.0);
    }

    /// Moves this event's notes of what changed about client `c` into
    /// `out` (update ids, and [`SCAN_TOUCHED`]); returns whether changes
    /// of an earlier event went unrefreshed (then every deployment is to
    /// be refreshed), and clears that.
    #[inline]
    pub(crate) fn take_touched(&mut self, c: ClientId, out: &mut Vec<u16>) -> bool {
        let lingering = self.table.lingering(c);
        self.touched.take(c, out);
        if lingering {
            self.table.set_lingering(c, false);
        }
        lingering
    }

    /// At the end of an event: clients with changes no refresh took have
    /// every deployment refreshed at their next refresh.
    #[inline]
    pub(crate) fn settle_touched(&mut self) {
        let table = &mut self.table;
        self.touched.settle(|c| table.set_lingering(c, true));
    }

    /// Client `c` has changes in another part that no refresh took.
    #[inline]
    pub(crate) fn set_lingering(&mut self, c: ClientId) {
        self.table.set_lingering(c, true);
    }

    /// Update `u`'s counts over all clients: true, then reported.
    pub(crate) fn update_counts(&self, u: UpdateId) -> ([u32; 4], [u32; 4]) {
        (
            self.update_truth[u.index()],
            self.update_reported[u.index()],
        )
    }

    /// Its queue of state messages, oldest first.
    #[inline]
    pub(crate) fn outbox(&self, c: ClientId) -> &[StateMsg] {
        self.outboxes.get(c)
    }

    /// Whether its queue is empty.
    #[inline]
    pub(crate) fn outbox_empty(&self, c: ClientId) -> bool {
        self.outboxes.is_empty(c)
    }

    /// Its queues, to change.
    pub(crate) fn outboxes_mut(&mut self) -> &mut Outboxes {
        &mut self.outboxes
    }

    /// Messages queued over all clients.
    pub(crate) fn queued_messages(&self) -> u64 {
        self.outboxes.total()
    }

    /// Batches each client sent, indexed by client id.
    pub(crate) fn batches_per_client(&self) -> Vec<u32> {
        self.table.iter().map(|c| c.batches).collect()
    }
}

impl Index<ClientId> for Clients {
    type Output = Client;

    #[inline]
    fn index(&self, c: ClientId) -> &Client {
        self.table.get(c)
    }
}

impl IndexMut<ClientId> for Clients {
    #[inline]
    fn index_mut(&mut self, c: ClientId) -> &mut Client {
        self.table.get_mut(c)
    }
}

/// Topic 300 states.
const COMPLIANT: u8 = 1;
const NON_COMPLIANT: u8 = 2;
/// Topic 302 states.
const EVALUATION_SUCCEEDED: u8 = 2;

impl World<'_> {
    /// Queues a state message on the client; it leaves at the next cycle.
    pub(crate) fn queue(&mut self, c: ClientId, topic: u16, state: u8, subject: u16, now: SimTime) {
        self.recorder.trace(now, Some(c), || {
            let (deployment, update) = match topic {
                TOPIC_DETECTION | TOPIC_UPDATE_ENFORCEMENT => (None, Some(UpdateId(subject))),
                TOPIC_SCAN => (None, None),
                _ => (Some(DeploymentId(subject)), None),
            };
            TraceEvent::MessageQueued {
                deployment,
                update,
                topic,
                state,
            }
        });
        self.clients.outboxes_mut().push(
            c,
            StateMsg {
                topic,
                state,
                subject,
                queued_at: now,
            },
        );
        self.recorder.totals.state_messages_queued += 1;
        if self.site.lossy() {
            // What a resync would resend.
            match topic {
                TOPIC_SCAN => self.clients.cold_mut(c).scan_sent = state,
                TOPIC_COMPLIANCE => {
                    (self.deployments.assignment_mut(DeploymentId(subject), c)).sent_compliance =
                        state
                }
                TOPIC_ENFORCEMENT => {
                    (self.deployments.assignment_mut(DeploymentId(subject), c)).sent_enforcement =
                        state
                }
                _ => {}
            }
        }
        if !self.clients[c].report_armed {
            self.report_dirty.push(c);
        }
    }

    fn begin(
        &mut self,
        c: ClientId,
        action: Action,
        length: SimDuration,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        self.recorder.trace(now, Some(c), || match action {
            Action::Install(deployment) => TraceEvent::InstallStart {
                deployment,
                length_ms: length.as_ms(),
            },
            Action::Restart => TraceEvent::RestartStart {
                length_ms: length.as_ms(),
            },
            Action::Idle | Action::Scan | Action::Locate(_) | Action::Download(_) => {
                unreachable!("scans and downloads begin at their servers")
            }
        });
        let client = &mut self.clients[c];
        debug_assert_eq!(client.action, Action::Idle);
        client.action = action;
        client.action_started = sched.now();
        client.action_timer = Some(sched.after(length, Event::ActionDone(c)));
    }

    /// The software update scan schedule fires: a scan is due after a
    /// random delay (it runs when the client is next on and free).
    pub(crate) fn scan_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let settings = self.settings(c);
        sched.after_fixed(settings.scan_interval, Event::ScanCycle(c));
        if !self.clients.has_update_policy(c) {
            return;
        }
        let spread = settings.scan_random_delay.as_ms();
        let due = sched.now()
            + SimDuration(if spread > 0 {
                self.clients.rng(c).random_range(0..=spread)
            } else {
                0
            });
        let client = &mut self.clients[c];
        client.scan_due = client.scan_due.min(due);
        sched.at_fixed(due, Event::Wake(c));
    }

    /// Before the start, a client with the software updates policy last
    /// scanned against its SUP at its previous scheduled scan or its
    /// previous re-evaluation, whichever was later (one interval before the
    /// first of each in the run): its results stay current until that
    /// scan's time to live runs out. A client whose GPO names another
    /// server never had results from this site.
    pub(crate) fn carry_in_scan_results(
        &mut self,
        c: ClientId,
        first_scan: SimTime,
        first_reevaluation: SimTime,
    ) {
        if !self.clients.has_update_policy(c)
            || self.clients[c].gpo_conflict
            || self.clients.cold(c).broken_agent
        {
            return;
        }
        let settings = self.settings(c);
        let before =
            |first: SimTime, interval: SimDuration| first.as_ms() as i64 - interval.as_ms() as i64;
        let last = before(first_scan, settings.scan_interval)
            .max(before(first_reevaluation, settings.reevaluation_interval));
        let until = last + settings.scan_ttl.as_ms() as i64;
        if until > 0 {
            self.clients.cold_mut(c).ttl_until = SimTime(until as u64);
        }
    }

    /// Whether the client is co-managed with its Windows Update policies
    /// workload on Intune (read only where its cohort has such clients:
    /// the cold record is another cache line).
    fn co_managed(&self, c: ClientId) -> bool {
        self.cohort(c).co_managed > 0.0 && self.clients.cold(c).co_managed
    }

    /// The deployment re-evaluation schedule fires: failed installs and
    /// failed scans are tried again (now, or when the client is next on).
    pub(crate) fn reevaluation_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        sched.after_fixed(
            self.settings(c).reevaluation_interval,
            Event::ReevaluationCycle(c),
        );
        self.clients[c].reevaluation_due = true;
        self.next_action(c, sched);
    }

    /// If the client is on and free, starts the most urgent work that is due:
    /// a waiting restart, a scan, a download, then an install.
    pub(crate) fn next_action(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let has_update_policy = self.clients.has_update_policy(c);
        let online = self.clients.online(c);
        let client = &mut self.clients[c];
        if !online || client.action != Action::Idle {
            return;
        }
        if client.restart_waiting {
            self.start_restart(c, sched);
            return;
        }
        let now = sched.now();
        let reevaluate = std::mem::take(&mut client.reevaluation_due);
        // Which scans are due: the schedule, an evaluation and the
        // re-evaluation are not forced (they reuse current results inside
        // the time to live); the scans after an install and after a
        // restart are forced and offline.
        let scheduled = has_update_policy && client.scan_due <= now;
        // Deployments of a suspended phased deployment: none of their
        // steps starts (empty unless one was ever suspended).
        let disabled = self.disabled_for(c);
        let (mut evaluation, mut reevaluation) = (false, false);
        let mut offline = false;
        self.deployments.change_assignments(c, |d, a| {
            if disabled.contains(&d) && a.phase != Phase::VerifyDue {
                return false;
            }
            match a.phase {
                Phase::Failed | Phase::ScanFailed | Phase::Compliant | Phase::NotRequired
                    if reevaluate =>
                {
                    a.phase = Phase::Evaluating;
                    reevaluation = true;
                }
                Phase::EvalDue if a.due <= now => {
                    a.phase = Phase::Evaluating;
                    evaluation = true;
                }
                Phase::VerifyDue if a.due <= now => {
                    a.phase = Phase::Verifying;
                    offline = true;
                }
                _ => return false,
            }
            true
        });
        let not_forced = evaluation || reevaluation || scheduled;
        if not_forced || offline {
            self.clients[c].scan_due = SimTime::MAX;
            if not_forced && !self.scan_current(c, now) {
                let cause = if evaluation {
                    ScanCause::Evaluation
                } else if reevaluation {
                    ScanCause::Reevaluation
                } else {
                    ScanCause::Schedule
                };
                self.start_scan(c, cause, scheduled, sched);
                self.refresh(c, now);
                return;
            }
            if offline {
                self.start_scan(c, ScanCause::Verification, scheduled, sched);
                self.refresh(c, now);
                return;
            }
            self.reuse_scan(c, now, sched);
        }
        // Users who start an Available install from Software Center.
        for d in self.deployments.ids() {
            if !self
                .deployments
                .assignment(d, c)
                .due_in(Phase::WaitUser, now)
                || disabled.contains(&d)
            {
                continue;
            }
            let a = self.deployments.assignment_mut(d, c);
            a.deadline_at = now;
            a.due = now;
            a.phase = if a.remaining > 0 {
                Phase::NeedDownload
            } else {
                Phase::WaitDeadline
            };
            self.recorder.totals.available_installs_started += 1;
            self.recorder
                .trace(now, Some(c), || TraceEvent::UserInstall { deployment: d });
        }
        let download = (self.deployments.ids()).find(|&d| {
            (self.deployments.assignment(d, c)).due_in(Phase::NeedDownload, now)
                && !disabled.contains(&d)
        });
        if let Some(d) = download {
            if !self.check_before_enforcing(c, d, sched) {
                self.start_download(c, d, sched);
            }
            return;
        }
        for d in self.deployments.ids() {
            let a = self.deployments.assignment(d, c);
            if !(a.due_in(Phase::WaitDeadline, now) || a.due_in(Phase::WaitWindow, now))
                || disabled.contains(&d)
            {
                continue;
            }
            // A user's install before the deadline is not gated by windows.
            let (early, phase) = (a.early(now), a.phase);
            let wait = if early {
                None
            } else {
                self.window_for_install(c, d, now)
            };
            if wait.is_none() && !early {
                self.enforcement_began(c, d, now);
            }
            match wait {
                None if self.deployments.assignment(d, c).remaining > 0 => {
                    // Its content left the cache (a cache limit): the
                    // client downloads it again before it installs.
                    let a = self.deployments.assignment_mut(d, c);
                    a.phase = Phase::NeedDownload;
                    a.due = now;
                    if !self.check_before_enforcing(c, d, sched) {
                        self.start_download(c, d, sched);
                    }
                    return;
                }
                None => {
                    if !early && phase == Phase::WaitDeadline {
                        self.bring_deadlines_forward(c, d, now);
                    }
                    if !self.check_before_enforcing(c, d, sched) {
                        // The results it reused may find nothing missing
                        // any more (an update superseded or expired since):
                        // the deployment is done, and nothing installs.
                        if !(self.updates_of(d).iter()).any(|&u| self.missing(c, u)) {
                            self.evaluate(c, d, false, now, sched);
                            self.refresh(c, now);
                            continue;
                        }
                        if early {
                            self.recorder.totals.early_installs_started += 1;
                            self.recorder
                                .trace(now, Some(c), || TraceEvent::UserInstall { deployment: d });
                        }
                        self.start_install(c, d, sched);
                    }
                    return;
                }
                Some(opens) => {
                    let a = self.deployments.assignment_mut(d, c);
                    let entering = a.phase == Phase::WaitDeadline;
                    a.phase = Phase::WaitWindow;
                    a.due = opens;
                    if opens != SimTime::MAX {
                        sched.at_fixed(opens, Event::Wake(c));
                    }
                    if entering {
                        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_WAITING_WINDOW, d.0, now);
                        self.refresh(c, now);
                    }
                }
            }
        }
    }

    /// Client `c` goes to install `d` after its deadline (or first checks
    /// that its updates are still required, or downloads its content
    /// again): unless it already began enforcing `d`, it begins now. Its
    /// restart countdown counts from this moment: the deadline itself for
    /// a client on and free then, later for one that was off or busy, or
    /// that waited for a maintenance window.
    fn enforcement_began(&mut self, c: ClientId, d: DeploymentId, now: SimTime) {
        let cold = self.clients.cold_mut(c);
        if cold.enforcing_since == SimTime::MAX || cold.enforcing != d {
            cold.enforcing_since = now;
            cold.enforcing = d;
        }
    }

    /// Deployment `d`'s deadline came on client `c`: with
    /// `enforce_deadlines_within` set, every other Required deployment whose
    /// deadline falls within that period is enforced too, as if its deadline
    /// had come now (its install follows this one).
    fn bring_deadlines_forward(&mut self, c: ClientId, d: DeploymentId, now: SimTime) {
        let Some(within) = self.settings(c).enforce_deadlines_within else {
            return;
        };
        let horizon = now + within;
        let disabled = self.disabled_for(c);
        for e in self.deployments.ids() {
            if disabled.contains(&e) {
                continue;
            }
            let a = self.deployments.assignment(e, c);
            let pending = matches!(
                a.phase,
                Phase::EvalDue
                    | Phase::Evaluating
                    | Phase::NeedDownload
                    | Phase::ConfirmDownload
                    | Phase::Downloading
                    | Phase::WaitDeadline
            );
            if e == d || !pending || a.deadline_at <= now || a.deadline_at > horizon {
                continue;
            }
            let a = self.deployments.assignment_mut(e, c);
            a.deadline_at = now;
            if a.phase == Phase::WaitDeadline {
                a.due = now;
            }
            self.recorder.totals.deadlines_brought_forward += 1;
            self.recorder
                .trace(now, Some(c), || TraceEvent::DeadlineBroughtForward {
                    deployment: e,
                    by: d,
                });
        }
    }

    /// Whether the client's last scan results are current: inside the scan
    /// time to live and fetched after the last new updates reached its
    /// site's SUPs. A scan that is not forced reuses them.
    pub(crate) fn scan_current(&self, c: ClientId, now: SimTime) -> bool {
        let cold = self.clients.cold(c);
        now < cold.ttl_until
            && !(self.site).catalog_changed_since(self.cohort(c).site, cold.catalog_at)
    }

    /// A Required deployment's download or install is about to start:
    /// the client first confirms that its updates are still required, by
    /// a scan that is not forced (an online one only when its results are
    /// not current). Returns whether that scan started (the deployment
    /// then waits for it).
    fn check_before_enforcing(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        let now = sched.now();
        if self.estate.deployments[d.index()].purpose != Purpose::Required {
            return false;
        }
        if self.scan_current(c, now) {
            // Unless they are those of the scan that has just ended (the
            // evaluation that found the download needed).
            let just_scanned = self.clients.cold(c).ttl_until == now + self.settings(c).scan_ttl;
            if !just_scanned {
                self.count_reuse(c, now);
            }
            return false;
        }
        let a = self.deployments.assignment_mut(d, c);
        a.phase = if a.phase == Phase::NeedDownload {
            Phase::ConfirmDownload
        } else {
            Phase::ConfirmInstall
        };
        self.start_scan(c, ScanCause::Enforcement, false, sched);
        self.refresh(c, now);
        true
    }

    /// A scan that is not forced, with current results: no scan runs; the
    /// client evaluates the deployments waiting for one from the results
    /// it has.
    fn reuse_scan(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        self.count_reuse(c, now);
        for d in self.deployments.ids() {
            if self.deployments.assignment(d, c).phase == Phase::Evaluating {
                self.evaluate(c, d, false, now, sched);
            }
        }
        self.refresh(c, now);
    }

    /// A scan that is not forced found the last results current.
    fn count_reuse(&mut self, c: ClientId, now: SimTime) {
        self.recorder.totals.scans_reused += 1;
        self.recorder.trace(now, Some(c), || TraceEvent::ScanReused);
    }

    /// The maintenance windows that gate client `c`'s installs of `d`:
    /// those of its cohort for software updates, if `d` is Required and
    /// honours windows and the cohort has any.
    fn install_windows(&self, c: ClientId, d: DeploymentId) -> Option<&Schedule> {
        let spec = &self.estate.deployments[d.index()];
        let windows = &self.windows[self.clients.cohort(c).index()];
        (spec.purpose == Purpose::Required && spec.honor_maintenance_windows && !windows.is_empty())
            .then_some(windows)
    }

    /// Whether a deadline install must wait for a maintenance window: `None`
    /// if it may start now, else when the next window opens with room for
    /// the shortest max run time of the updates still missing (the first
    /// the client would install; `SimTime::MAX`: no window ever has).
    fn window_for_install(&self, c: ClientId, d: DeploymentId, now: SimTime) -> Option<SimTime> {
        let windows = self.install_windows(c, d)?;
        let need = (self.updates_of(d).iter())
            .filter(|&&u| self.missing(c, u))
            .map(|u| self.estate.updates[u.index()].max_run_time)
            .min()?;
        match windows.next_fit(now, need) {
            Some(t) if t <= now => None,
            Some(t) => Some(t),
            None => Some(SimTime::MAX),
        }
    }

    /// What the end of the client's current action is, in the trace
    /// (`None`: it has no action that ends at an `ActionDone`).
    pub(crate) fn action_done_event(&self, c: ClientId) -> Option<TraceEvent> {
        match self.clients[c].action {
            // A scan that fails for good (see `scan_done`).
            Action::Scan if self.clients[c].gpo_conflict => Some(TraceEvent::ScanFailed {
                by: ScanFailure::OtherServer,
                retry_ms: None,
            }),
            Action::Scan if self.clients.cold(c).broken_agent => Some(TraceEvent::ScanFailed {
                by: ScanFailure::Agent,
                retry_ms: None,
            }),
            Action::Scan => Some(TraceEvent::ScanDone),
            Action::Install(_) => Some(TraceEvent::InstallDone),
            Action::Restart => Some(TraceEvent::RestartDone),
            // A download from a peer or Microsoft Update ends here (one
            // from the DP at its DP's tick, traced there); a location
            // request at its MP's answer.
            Action::Download(deployment) => Some(TraceEvent::DownloadDone { deployment }),
            Action::Locate(_) | Action::Idle => None,
        }
    }

    /// The client's current action has run its course.
    pub(crate) fn action_done(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let client = &mut self.clients[c];
        let action = std::mem::replace(&mut client.action, Action::Idle);
        client.action_timer = None;
        match action {
            Action::Idle => unreachable!("an idle client has no action to finish"),
            Action::Scan => self.scan_done(c, now, sched),
            Action::Locate(_) => unreachable!("a location request ends at its MP's answer"),
            Action::Download(d) => {
                // From a peer or Microsoft Update (a DP's ends at its tick).
                // Nothing left of what it asked for (but what a refresh
                // added meanwhile).
                self.end_transfer(c, d, now);
                let took = now.since(self.clients[c].action_started).as_ms();
                let cohort = self.clients.cohort(c).index();
                self.recorder.timing(cohort, Timing::Download, took);
                self.download_done(c, d, now, sched);
            }
            Action::Install(d) => self.install_done(c, d, now, sched),
            Action::Restart => self.complete_restart(c, sched),
        }
        self.refresh(c, now);
        if self.clients[c].power_off_waiting {
            self.switch_off(c, sched);
        } else {
            self.next_action(c, sched);
        }
    }

    /// A scan ends: the client queues a detection
    /// message for every synced update whose state changed, and every
    /// deployment it evaluated or verified moves on. A client whose GPO
    /// names another server reaches the wrong WSUS: its scan fails.
    fn scan_done(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        self.recorder.totals.scans += 1;
        self.recorder
            .totals
            .scans_by_cause
            .count(self.clients[c].scan_cause);
        if self.clients[c].gpo_conflict || self.clients.cold(c).broken_agent {
            self.recorder.totals.scans_failed += 1;
            self.queue(c, TOPIC_SCAN, SCAN_FAILED, 0, now);
            self.deployments.change_assignments(c, |_, a| {
                let waits = a.phase.awaits_scan();
                if waits {
                    a.phase = Phase::ScanFailed;
                }
                waits
            });
            return;
        }
        let client = &mut self.clients[c];
        let (started, online) = (client.action_started, client.scan_cause.online());
        client.scan_scheduled = false;
        if online {
            let ttl = self.settings(c).scan_ttl;
            let cold = self.clients.cold_mut(c);
            cold.catalog_at = started;
            cold.ttl_until = now + ttl;
        } else {
            self.recorder.totals.scans_offline += 1;
        }
        // An offline scan sees the metadata its last online scan fetched.
        let catalog = self.clients.cold(c).catalog_at;
        let site = self.cohort(c).site;
        for u in (0..self.estate.updates.len() as u16).map(UpdateId) {
            if !self.site.synced_by(site, u.index(), catalog) {
                continue; // the sync law: not in the site's catalog when the scan began
            }
            let update = self.clients.update_mut(c, u);
            let state = update.truth.detection_state();
            if update.sent != state {
                update.sent = state;
                self.queue(c, TOPIC_DETECTION, state, u.0, now);
            }
        }
        self.queue(c, TOPIC_SCAN, SCAN_COMPLETED, 0, now);
        for d in self.deployments.ids() {
            let phase = self.deployments.assignment(d, c).phase;
            if phase.awaits_scan() {
                self.evaluate(c, d, phase == Phase::Verifying, now, sched);
            }
        }
        if std::mem::take(&mut self.clients.cold_mut(c).report_after_scan) {
            self.plan_install_report(c, sched);
        }
    }

    /// Sorts one deployment into its next phase from what the scan found,
    /// and queues its evaluation and compliance state messages.
    fn evaluate(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        verifying: bool,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        if self.co_managed(c) {
            // Windows Update for Business patches it: the site's scan
            // filters out the Windows updates, so the deployment is never
            // enforced here and reports nothing (the console shows the
            // client Unknown). Re-evaluated like a compliant client.
            self.deployments.assignment_mut(d, c).phase = Phase::NotRequired;
            return;
        }
        let spec = &self.estate.deployments[d.index()];
        let (mut missing_bytes, mut missing, mut pending, mut installed) =
            (0u64, false, false, false);
        let mut waiting_content = false;
        let mut background = false;
        // Read only where the cohort uses express: the cold record is
        // another cache line.
        let express = self.cohort(c).content.express > 0.0 && self.clients.cold(c).express;
        for &u in self.updates_of(d).iter() {
            if self.sync.expired(u) {
                continue; // it left the deployment
            }
            match self.clients.update(c, u).truth {
                Truth::Missing => {
                    missing = true;
                    let update = &self.estate.updates[u.index()];
                    missing_bytes += match update.express_bytes {
                        Some(bytes) if express => bytes,
                        _ => update.size_bytes,
                    };
                }
                Truth::PendingRestart => pending = true,
                Truth::Installed => installed = true,
                Truth::Background => background = true,
                _ => {}
            }
        }
        self.queue(c, TOPIC_EVALUATION, EVALUATION_SUCCEEDED, d.0, now);
        let cohort = self.cohort(c);
        let a = self.deployments.assignment_mut(d, c);
        let (phase, compliant) = if missing {
            let first = a.remaining == u64::MAX;
            if first {
                a.remaining = missing_bytes;
            }
            match spec.purpose {
                Purpose::Required => {
                    // Whether this user installs it from Software Center
                    // before the deadline is drawn once.
                    if first && cohort.early_install_share > 0.0 && a.deadline_at > now {
                        let mut rng = self.clients.rng(c);
                        if rng.random::<f64>() < cohort.early_install_share {
                            let at = now + cohort.early_install_delay.sample(&mut rng);
                            if at < a.deadline_at {
                                a.early_at = at;
                            }
                        }
                    }
                    if a.remaining > 0 {
                        a.due = now;
                        waiting_content = true;
                        (Phase::NeedDownload, false)
                    } else {
                        a.due = a.install_due();
                        (Phase::WaitDeadline, false)
                    }
                }
                Purpose::Available => {
                    // Whether this user ever installs it is drawn once.
                    let installs = !first
                        || self.clients.rng(c).random::<f64>() < cohort.available_install_share;
                    a.due = if installs {
                        now + cohort
                            .available_install_delay
                            .sample(&mut self.clients.rng(c))
                    } else {
                        SimTime::MAX
                    };
                    (Phase::WaitUser, false)
                }
            }
        } else if pending {
            (Phase::PendingRestart, false)
        } else if background {
            // Still installing in the background after it was reported
            // failed: the next re-evaluation looks again.
            (Phase::Failed, false)
        } else if installed {
            (Phase::Compliant, true)
        } else {
            (Phase::NotRequired, true)
        };
        a.phase = phase;
        if matches!(phase, Phase::WaitDeadline | Phase::WaitUser)
            && a.due > now
            && a.due != SimTime::MAX
        {
            sched.at_fixed(a.due, Event::Wake(c));
        }
        if verifying && phase == Phase::Compliant {
            self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_SUCCESS, d.0, now);
        }
        if waiting_content {
            self.queue_missing(c, d, UPDATE_WAITING_CONTENT, now);
        }
        // A restart nothing has planned (an install that finished in the
        // background needs one): the client plans it now it knows.
        let client = &self.clients[c];
        if phase == Phase::PendingRestart
            && client.restart_timer.is_none()
            && !client.restart_waiting
        {
            // Its countdown counts from now, when the client learns of it.
            self.plan_restart(c, d, now, sched);
        }
        let state = if compliant { COMPLIANT } else { NON_COMPLIANT };
        self.queue(c, TOPIC_COMPLIANCE, state, d.0, now);
    }

    /// Queues a per-update enforcement (topic 402) message for each update
    /// of the deployment still missing on the client.
    fn queue_missing(&mut self, c: ClientId, d: DeploymentId, state: u8, now: SimTime) {
        for &u in self.updates_of(d).iter() {
            if self.missing(c, u) {
                self.queue(c, TOPIC_UPDATE_ENFORCEMENT, state, u.0, now);
            }
        }
    }

    /// Starts downloading the content the client lacks (301/7): its
    /// content transfer job first asks its MP which distribution points
    /// hold the content; the download from its DP follows the answer
    /// ([`download_located`](Self::download_located)).
    fn start_download(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.recorder
            .trace(now, Some(c), || TraceEvent::ContentLocationRequest {
                deployment: d,
            });
        let client = &mut self.clients[c];
        client.action = Action::Locate(d);
        client.action_started = now;
        // A new attempt: an answer to an older one is ignored.
        client.scan_token = client.scan_token.wrapping_add(1);
        self.deployments.assignment_mut(d, c).phase = Phase::Downloading;
        self.queue_missing(c, d, UPDATE_DOWNLOADING, now);
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_DOWNLOADING, d.0, now);
        self.refresh(c, now);
        let job = self.job(c, Request::ContentLocation, now);
        if self.offer(self.mp_station(c), job, sched) == Offer::Rejected {
            self.content_location_failed(c, sched);
        }
    }

    /// The MP told the client where the content is: it gets what it lacks
    /// from its sources ([`fetch`](Self::fetch)): from its DP, waiting
    /// for a connection if the DP has none free, unless peers serve it.
    pub(crate) fn download_located(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let Action::Locate(d) = self.clients[c].action else {
            unreachable!("a located download belongs to a locating client");
        };
        self.clients[c].action = Action::Download(d);
        self.fetch(c, d, sched);
    }

    /// The download failed (`by` its DP or the WAN link to it, down when
    /// it was asked for or while it ran): the client keeps what it has and
    /// downloads the rest from Microsoft Update if the deployment allows,
    /// else tries again after `download_retry`.
    pub(crate) fn download_failed(
        &mut self,
        c: ClientId,
        remaining: u64,
        by: DownloadFailure,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let Action::Download(d) = self.clients[c].action else {
            unreachable!("a failed download belongs to a downloading client");
        };
        let remaining = self.dp_received(c, d, remaining);
        self.recorder
            .trace(now, Some(c), || TraceEvent::DownloadFailed {
                deployment: d,
                by,
                bytes: remaining,
            });
        self.content_missing(c, now);
        if self.microsoft_update_fallback(c, d, remaining, sched) {
            return;
        }
        self.recorder.totals.download_failures += 1;
        let retry = now + self.settings(c).download_retry;
        self.download_later(c, d, Some(retry), sched);
    }

    /// The content location answer names no DP of the client's: the
    /// content is still crossing the WAN link to its branch DP. It
    /// downloads from Microsoft Update if the deployment allows, else asks
    /// again after `download_retry`.
    pub(crate) fn content_not_on_dp(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        remaining: u64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let retry_ms = self.settings(c).download_retry.as_ms();
        self.recorder
            .trace(now, Some(c), || TraceEvent::ContentNotOnDp {
                deployment: d,
                retry_ms,
            });
        self.recorder.totals.content_not_on_dp += 1;
        self.content_missing(c, now);
        if self.microsoft_update_fallback(c, d, remaining, sched) {
            return;
        }
        let retry = now + self.settings(c).download_retry;
        self.download_later(c, d, Some(retry), sched);
    }

    /// The client puts deployment `d`'s download (or content location
    /// request) off: it goes idle and takes the download up again at
    /// `retry`, woken then, or with `None` as soon as it may (no wake).
    pub(crate) fn download_later(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        retry: Option<SimTime>,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        self.clients[c].action = Action::Idle;
        let a = self.deployments.assignment_mut(d, c);
        a.phase = Phase::NeedDownload;
        a.due = retry.unwrap_or(now);
        if let Some(retry) = retry {
            sched.at_fixed(retry, Event::Wake(c));
        }
        self.refresh(c, now);
        self.next_action(c, sched);
    }

    /// The DP has sent the last byte of the client's download.
    pub(crate) fn download_finished(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let Action::Download(d) = std::mem::replace(&mut self.clients[c].action, Action::Idle)
        else {
            unreachable!("a finished download belongs to a downloading client");
        };
        self.recorder
            .trace(now, Some(c), || TraceEvent::DownloadDone { deployment: d });
        let client = &self.clients[c];
        let took = now.since(client.action_started).as_ms();
        let cohort = self.clients.cohort(c).index();
        self.recorder.timing(cohort, Timing::Download, took);
        self.dp_received(c, d, 0);
        self.content_found(c);
        self.download_done(c, d, now, sched);
        self.refresh(c, now);
        if self.clients[c].power_off_waiting {
            self.switch_off(c, sched);
        } else {
            self.next_action(c, sched);
        }
    }

    fn download_done(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        if self.deployments.assignment(d, c).remaining == 0 {
            self.count_express_saved(c, d);
            self.hold(c, d);
            self.cache_add(c, d, now);
        }
        // Else a rule's refresh added updates during the transfer: like a
        // client that had finished, it downloads them before it installs.
        let a = self.deployments.assignment_mut(d, c);
        a.phase = Phase::WaitDeadline;
        a.due = a.install_due();
        if a.due > now {
            sched.at_fixed(a.due, Event::Wake(c));
        }
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_DOWNLOADED, d.0, now);
    }

    /// Installs the deployment's missing updates one after another, in
    /// ascending order of max run time, as Configuration Manager does. In a
    /// maintenance window an update starts only if its max run time fits in
    /// what is left of the window when it would start; the rest wait for a
    /// later window. Each attempt's length and outcome are drawn now. An
    /// attempt that outruns its max run time ends the client's part there:
    /// it reports the update failed and is free, while the install goes on
    /// in the background until its drawn length.
    fn start_install(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.cache_touch(c, d, now);
        let estate = self.estate;
        let cohort_failure = self.cohort(c).failure_probability;
        // Time left in the open window (`None`: no window gates it, as
        // none gates a user's install before the deadline).
        let early = self.deployments.assignment(d, c).early(now);
        let left = (self.install_windows(c, d).filter(|_| !early))
            .map(|w| w.left(now).unwrap_or(SimDuration::ZERO).as_ms());
        let mut order: Vec<UpdateId> = (self.updates_of(d).iter().copied())
            .filter(|&u| self.missing(c, u))
            .collect();
        order.sort_by_key(|u| estate.updates[u.index()].max_run_time);
        let mut length = SimDuration::ZERO;
        for u in order {
            let update = &estate.updates[u.index()];
            if left.is_some_and(|left| {
                update.max_run_time.as_ms() > left.saturating_sub(length.as_ms())
            }) {
                break; // the rest are longer still
            }
            let p_fail = 1.0 - (1.0 - update.failure_probability) * (1.0 - cohort_failure);
            let (took, fails) = {
                let mut rng = self.clients.rng(c);
                let took = update.install_time.sample(&mut rng);
                (took, rng.random::<f64>() < p_fail)
            };
            let overruns = took > update.max_run_time;
            let truth = if fails {
                Truth::InstallingFail
            } else if overruns {
                // The install goes on after the client stops watching it.
                sched.at_fixed(now + length + took, Event::BackgroundInstallDone(c, u));
                Truth::InstallingOverrun
            } else {
                Truth::InstallingOk
            };
            length = length + took.min(update.max_run_time);
            self.clients.set_truth(c, u, truth);
            self.queue(c, TOPIC_UPDATE_ENFORCEMENT, UPDATE_INSTALLING, u.0, now);
            self.recorder.totals.installs += 1;
            if overruns {
                break; // the client reports the deployment failed at this point
            }
        }
        self.deployments.assignment_mut(d, c).phase = Phase::Installing;
        self.deployments.install_started(d, c, now);
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_INSTALLING, d.0, now);
        self.begin(c, Action::Install(d), length, sched);
        self.refresh(c, now);
    }

    fn install_done(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let (mut failed, mut restart, mut installed) = (false, false, false);
        for &u in self.updates_of(d).iter() {
            let (next, message) = match self.clients.update(c, u).truth {
                Truth::InstallingOk => {
                    installed = true;
                    let p = self.estate.updates[u.index()].restart_probability;
                    if self.clients.rng(c).random::<f64>() < p {
                        restart = true;
                        (Truth::PendingRestart, UPDATE_PENDING_RESTART)
                    } else {
                        (Truth::Installed, UPDATE_INSTALLED)
                    }
                }
                Truth::InstallingFail => {
                    failed = true;
                    self.recorder.totals.install_failures += 1;
                    (Truth::Missing, UPDATE_FAILED)
                }
                // Past its max run time the client reports it failed; it
                // goes on in the background.
                Truth::InstallingOverrun => {
                    failed = true;
                    self.recorder.totals.installs_overran += 1;
                    (Truth::Background, UPDATE_FAILED)
                }
                _ => continue,
            };
            self.set_effective(c, u, next, now);
            self.queue(c, TOPIC_UPDATE_ENFORCEMENT, message, u.0, now);
        }
        let a = self.deployments.assignment_mut(d, c);
        let state = if failed {
            a.phase = Phase::Failed; // retried at the next re-evaluation
            Some(ENFORCE_FAILED)
        } else if restart {
            a.phase = Phase::PendingRestart;
            Some(ENFORCE_PENDING_RESTART)
        } else {
            a.phase = Phase::VerifyDue;
            a.due = now;
            None
        };
        if let Some(state) = state {
            self.queue(c, TOPIC_ENFORCEMENT, state, d.0, now);
        }
        // The state of what it installed goes out within two minutes of
        // the scan that follows the install: the verification scan, when
        // nothing is left pending; else (a restart or a failure waits)
        // patchsim runs no scan, and the state is known now.
        let verifying = state.is_none();
        if verifying {
            self.clients.cold_mut(c).report_after_scan = true;
        } else if installed {
            self.plan_install_report(c, sched);
        }
        // The restart countdown counts from the moment the client began
        // enforcing the deadline (for an install that began before it, the
        // user's, from the deadline).
        let cold = self.clients.cold_mut(c);
        let since = std::mem::replace(&mut cold.enforcing_since, SimTime::MAX);
        let began = if since != SimTime::MAX && cold.enforcing == d {
            since
        } else {
            let deadline = self.deployments.assignment(d, c).deadline_at;
            self.clients[c].action_started.max(deadline)
        };
        if restart {
            self.plan_restart(c, d, began, sched);
        }
    }

    /// Plans the restart an install of `d` needs ("Device restart
    /// notifications"), or none: then it stays pending until the client
    /// restarts or shuts down for another reason.
    /// - Required, honouring the client's maintenance windows: at once after
    ///   an install in a window (restarts are allowed in windows; otherwise
    ///   when the next one opens).
    /// - Required, otherwise: the countdown (see
    ///   [`countdown_restart`](Self::countdown_restart)).
    /// - Required, installed before its deadline (the user's own install):
    ///   when the user restarts in their own time, at the latest at the
    ///   deadline's restart (the countdown's end, or the first window from
    ///   the deadline where windows apply).
    /// - Required with the restart suppressed on this kind of client: never
    ///   forced; when the client's next maintenance window opens, or, on a
    ///   workstation, when the user restarts in their own time.
    /// - Available: when the user restarts in their own time.
    ///
    /// The administrator's scheduled restart, if the cohort has one, comes
    /// first if it is sooner. An earlier plan already made wins unless this
    /// one is sooner.
    fn plan_restart(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        began: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let cohort = self.cohort(c);
        let settings = self.settings(c);
        let deadline = self.deployments.assignment(d, c).deadline_at;
        let windows = &self.windows[self.clients.cohort(c).index()];
        let (has_windows, next_window) = (!windows.is_empty(), windows.next_opening(now));
        // Now if a window is open (after an install in it, always), else
        // when the next one opens.
        let in_window = match windows.left(now) {
            Some(_) => Some(now),
            None => next_window,
        };
        let suppressed = match cohort.kind {
            ClientKind::Workstation => spec.suppress_restart_workstations,
            ClientKind::Server => spec.suppress_restart_servers,
        };
        let own_time = |w: &mut Self| {
            let user = settings.user_restart_delay.sample(&mut w.clients.rng(c));
            (now + user, RestartCause::User)
        };
        let plan = match spec.purpose {
            Purpose::Available => Some(own_time(self)),
            Purpose::Required if suppressed => {
                let window = next_window.map(|t| (t, RestartCause::InWindow));
                let user = (cohort.kind == ClientKind::Workstation).then(|| own_time(self));
                earliest(window, user)
            }
            // An install before the deadline (the user's, from Software
            // Center) postpones the restart to the deadline: the user
            // restarts when ready, at the latest when the deadline's
            // restart comes: at the end of the countdown that starts then,
            // or where windows apply, in the first window from then.
            Purpose::Required if now < deadline => {
                let forced = if !spec.restart_outside_windows && has_windows {
                    (windows.next_fit(deadline, SimDuration(0)))
                        .map(|t| (t, RestartCause::InWindow))
                } else {
                    Some((deadline + settings.restart_countdown, RestartCause::Forced))
                };
                earliest(Some(own_time(self)), forced)
            }
            Purpose::Required if !spec.restart_outside_windows && has_windows => {
                in_window.map(|t| (t, RestartCause::InWindow))
            }
            Purpose::Required => Some(self.countdown_restart(c, began, now)),
        };
        let scheduled = (cohort.scheduled_restart.as_ref()).map(|r| {
            (
                next_restart(r, self.estate.week_offset, now),
                RestartCause::Scheduled,
            )
        });
        let client = &mut self.clients[c];
        client.restart_pending_since = client.restart_pending_since.min(now);
        let Some((at, cause)) = earliest(plan, scheduled) else {
            return; // it stays pending restart
        };
        self.recorder
            .trace(now, Some(c), || TraceEvent::RestartPlanned {
                cause,
                in_ms: at.since(now).as_ms(),
            });
        let planned = self.clients.cold(c).restart_at;
        let client = &mut self.clients[c];
        let timer = match client.restart_timer {
            Some(timer) if at < planned => sched.reschedule(timer, at),
            Some(_) => return,
            None => Some(sched.at(at, Event::RestartDue(c))),
        };
        client.restart_timer = timer;
        client.restart_cause = cause;
        self.clients.cold_mut(c).restart_at = at;
    }

    /// The restart after a deadline install that needs one, its countdown
    /// counted from `began`, when the client began enforcing the deadline
    /// (the deadline itself for a client on and free then): the user is
    /// notified at the install's end (`now`), reminded every
    /// `restart_reminder_interval` after `began` while more than the final
    /// countdown remains, and shown the final countdown (a notification
    /// that stays up) `restart_final_countdown` before the forced restart
    /// at `began + restart_countdown`. An install that ends too late for
    /// the whole final countdown shows it at once, and the restart is
    /// forced at its end. The user restarts at the first notification at
    /// or after they are ready (`user_restart_delay`, from the install's
    /// end), or during the final countdown once ready; a user not ready by
    /// the end is forced.
    fn countdown_restart(
        &mut self,
        c: ClientId,
        began: SimTime,
        now: SimTime,
    ) -> (SimTime, RestartCause) {
        let settings = self.settings(c);
        let ready = now + settings.user_restart_delay.sample(&mut self.clients.rng(c));
        let final_countdown = settings.restart_final_countdown;
        let final_at = SimTime(
            (began + settings.restart_countdown)
                .as_ms()
                .saturating_sub(final_countdown.as_ms()),
        )
        .max(now);
        let forced = final_at + final_countdown;
        let reminder = settings.restart_reminder_interval.as_ms();
        let at = if ready <= now {
            now // ready at the first notification
        } else if ready <= final_at {
            // The next notification: a reminder, or the final one.
            let k = ready.since(began).as_ms().div_ceil(reminder);
            (began + SimDuration(k * reminder)).min(final_at)
        } else {
            ready
        };
        if at < forced {
            (at, RestartCause::User)
        } else {
            (forced, RestartCause::Forced)
        }
    }

    /// Updates still missing on clients where no maintenance window is
    /// long enough for them (see [`too_long`]), once per client and update:
    /// they never install there.
    pub(crate) fn updates_never_fit(&self) -> u64 {
        let mut by_cohort: Vec<Vec<UpdateId>> = vec![Vec::new(); self.estate.cohorts.len()];
        for t in too_long(self.estate) {
            let updates = &mut by_cohort[t.cohort.index()];
            if !updates.contains(&t.update) {
                updates.push(t.update);
            }
        }
        let mut n = 0;
        for (cohort, updates) in self.estate.cohorts.iter().zip(&by_cohort) {
            if updates.is_empty() {
                continue;
            }
            for c in cohort.clients().map(ClientId) {
                n += (updates.iter()).filter(|&&u| self.missing(c, u)).count() as u64;
            }
        }
        n
    }

    /// An update the client stopped watching at its max run time has
    /// finished installing in the background: it is installed (or waits for
    /// a restart, as drawn now). The client learns of it at its next scan.
    pub(crate) fn background_install_done(
        &mut self,
        c: ClientId,
        u: UpdateId,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        debug_assert_eq!(self.clients.update(c, u).truth, Truth::Background);
        let p = self.estate.updates[u.index()].restart_probability;
        let truth = if self.clients.rng(c).random::<f64>() < p {
            Truth::PendingRestart
        } else {
            Truth::Installed
        };
        self.set_effective(c, u, truth, now);
        self.refresh(c, now);
    }

    /// Whether client `c` misses update `u` for its deployments: it
    /// applies, is not installed, and has not expired.
    #[inline]
    pub(crate) fn missing(&self, c: ClientId, u: UpdateId) -> bool {
        self.clients.update(c, u).truth == Truth::Missing && !self.sync.expired(u)
    }

    /// Sets update `u`'s true state on client `c`; when that puts it in
    /// effect (installed, no restart waiting), the updates it supersedes
    /// that the client still misses are no longer required there. The
    /// caller refreshes the client's cells.
    pub(crate) fn set_effective(&mut self, c: ClientId, u: UpdateId, t: Truth, now: SimTime) {
        self.clients.set_truth(c, u, t);
        if t != Truth::Installed {
            return;
        }
        let estate = self.estate;
        for &s in &estate.updates[u.index()].supersedes {
            if self.clients.update(c, s).truth == Truth::Missing {
                self.clients.set_truth(c, s, Truth::NotRequired);
                self.recorder.totals.updates_superseded += 1;
                self.recorder
                    .trace(now, Some(c), || TraceEvent::Superseded { update: s });
            }
        }
    }

    /// The restart is due: restart now, or as soon as the running install
    /// ends.
    pub(crate) fn restart_due(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        debug_assert!(
            self.clients.online(c),
            "switching off cancels the restart timer"
        );
        let client = &mut self.clients[c];
        client.restart_timer = None;
        match client.restart_cause {
            RestartCause::User => self.recorder.totals.restarts_by_user += 1,
            RestartCause::Forced => self.recorder.totals.restarts_forced += 1,
            RestartCause::InWindow => self.recorder.totals.restarts_in_window += 1,
            RestartCause::Scheduled => self.recorder.totals.restarts_scheduled += 1,
        }
        match client.action {
            Action::Install(_) => client.restart_waiting = true,
            Action::Restart => {}
            Action::Idle => self.start_restart(c, sched),
            Action::Scan | Action::Locate(_) | Action::Download(_) => {
                self.interrupt(c, sched);
                self.start_restart(c, sched);
            }
        }
    }

    fn start_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let length = self
            .settings(c)
            .restart_duration
            .sample(&mut self.clients.rng(c));
        self.clients[c].restart_waiting = false;
        self.record_restart_delay(c, sched.now());
        self.peer_away(c, sched);
        self.begin(c, Action::Restart, length, sched);
    }

    /// Records how long the client's pending restart waited.
    pub(crate) fn record_restart_delay(&mut self, c: ClientId, now: SimTime) {
        let client = &mut self.clients[c];
        let since = std::mem::replace(&mut client.restart_pending_since, SimTime::MAX);
        if since != SimTime::MAX {
            let cohort = self.clients.cohort(c).index();
            let ms = now.since(since).as_ms();
            self.recorder.timing(cohort, Timing::RestartDelay, ms);
        }
    }

    /// The client is back from a restart (or a shutdown): installs pending a
    /// restart take effect and are verified by a scan; it asks for policy.
    pub(crate) fn complete_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.peer_back(c);
        for u in (0..self.estate.updates.len() as u16).map(UpdateId) {
            if self.clients.update(c, u).truth == Truth::PendingRestart {
                self.set_effective(c, u, Truth::Installed, now);
            }
        }
        self.deployments.change_assignments(c, |_, a| {
            let pending = a.phase == Phase::PendingRestart;
            if pending {
                a.phase = Phase::VerifyDue;
                a.due = SimTime::ZERO;
            }
            pending
        });
        let client = &mut self.clients[c];
        client.restarted_by_shutdown = false;
        if let Some(timer) = client.restart_timer.take() {
            sched.cancel(timer);
        }
        self.clients.cold_mut(c).restart_at = SimTime::MAX;
        let delay = self
            .settings(c)
            .power_on_policy_delay
            .sample(&mut self.clients.rng(c));
        sched.after_fixed(delay, Event::PolicyRequest(c));
    }

    /// Stops the current scan, download or restart (an install is never
    /// interrupted); a download keeps the bytes it has.
    pub(crate) fn interrupt(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let client = &mut self.clients[c];
        if client.action == Action::Idle {
            // Nothing to stop (an idle client has no action timer), and no
            // state changes: no refresh either.
            debug_assert!(client.action_timer.is_none());
            return;
        }
        if let Some(timer) = client.action_timer.take() {
            sched.cancel(timer);
        }
        if matches!(client.action, Action::Scan | Action::Locate(_)) {
            // A server's answer to this attempt will be ignored.
            client.scan_token = client.scan_token.wrapping_add(1);
        }
        let action = client.action;
        if action == Action::Scan && !self.estate.locations.is_empty() {
            // Its SUP's answer may be on its way across the WAN link.
            self.scan_link_cancel(c, sched);
        }
        if let Action::Download(d) = action {
            if self.content.direct(c) {
                self.end_transfer(c, d, now);
            } else {
                let remaining = self
                    .dp_cancel(c, sched)
                    .expect("a downloading client is at its DP");
                self.dp_received(c, d, remaining);
            }
            let a = self.deployments.assignment_mut(d, c);
            a.phase = Phase::NeedDownload;
            a.due = now;
            self.clients[c].action = Action::Idle;
        }
        let client = &mut self.clients[c];
        match std::mem::replace(&mut client.action, Action::Idle) {
            Action::Idle => {}
            Action::Install(_) => unreachable!("installs are never interrupted"),
            Action::Restart => client.restarted_by_shutdown = true,
            Action::Scan => self.requeue_scan(c, now),
            Action::Locate(d) => {
                // Not at its DP yet: it asks for the location again.
                let a = self.deployments.assignment_mut(d, c);
                a.phase = Phase::NeedDownload;
                a.due = now;
            }
            Action::Download(_) => unreachable!("handled above"),
        }
        self.refresh(c, now);
    }
}

/// The sooner of two planned restarts (the first on a tie).
fn earliest(
    a: Option<(SimTime, RestartCause)>,
    b: Option<(SimTime, RestartCause)>,
) -> Option<(SimTime, RestartCause)> {
    match (a, b) {
        (Some(a), Some(b)) if b.0 < a.0 => Some(b),
        (Some(a), _) => Some(a),
        (None, b) => b,
    }
}
