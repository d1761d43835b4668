//! Software update points: a client's scan, from the location request to
//! the SUP's answer, and what a 503 does.
//!
//! Owns the scan's server side: a client without a SUP location asks its
//! MP first; its first scan against a SUP is a full scan, later ones are
//! delta scans; a SUP over its WsusPool queue answers 503 and the client
//! retries after `scan_retry_interval`; when `scan_retries` retries have
//! failed too it switches to another SUP of its cohort, at random (two
//! minutes later), and scans in full there (the scan storm of a SUP
//! failover). The client-side part of the
//! scan follows the SUP's answer.

use rand::Rng;

use super::client::Action;
use super::compliance::{Phase, TOPIC_SCAN};
use super::events::Event;
use super::record::Timing;
use super::servers::Request;
use super::store::{Job, Offer};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, SupId};

/// Topic 501 state: pending retry.
const SCAN_PENDING_RETRY: u8 = 4;

/// Who turned a scan attempt down, in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanFailure {
    /// The management point (location request).
    ManagementPoint,
    /// The software update point (503 or down).
    UpdatePoint,
    /// The scan itself, with an error the client retries (a timeout, a
    /// dropped connection).
    Error,
    /// The WAN link between the client's location and the site, down: the
    /// SUP's answer cannot reach it (a dropped connection, to the client).
    WanLink,
    /// Another update server, the one a group policy names (a GPO
    /// conflict): the scan never reaches this site. No retry.
    OtherServer,
    /// The client's own Windows Update agent, broken: the scan reached the
    /// SUP and failed on the client. No retry.
    Agent,
}

/// A scan failure the client retries: who turned the attempt down. (The
/// failures for good, [`ScanFailure::OtherServer`] and
/// [`ScanFailure::Agent`], end the scan at its own time instead.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransientScanFailure {
    /// The management point (location request).
    ManagementPoint,
    /// The software update point (503 or down).
    UpdatePoint,
    /// The scan itself (a timeout, a dropped connection).
    Error,
    /// The WAN link to the site, down.
    WanLink,
}

impl From<TransientScanFailure> for ScanFailure {
    fn from(by: TransientScanFailure) -> ScanFailure {
        match by {
            TransientScanFailure::ManagementPoint => ScanFailure::ManagementPoint,
            TransientScanFailure::UpdatePoint => ScanFailure::UpdatePoint,
            TransientScanFailure::Error => ScanFailure::Error,
            TransientScanFailure::WanLink => ScanFailure::WanLink,
        }
    }
}

/// Where a scan's software updates metadata comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanSource {
    /// Its SUP (an online scan).
    UpdatePoint,
    /// The metadata the client already has (a forced offline scan).
    LocalMetadata,
}

/// Why a scan runs: the first of these that holds when it starts (a scan
/// may serve several at once: an evaluation that falls due when the
/// schedule fires is one scan). A scan that a Required deployment's
/// download or install would have needed, but that one of the first
/// three started anyway, counts under that one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanCause {
    /// A deployment's evaluation: a deployment, or a new revision of one,
    /// the client has just learned of, or the retry of a scan that
    /// deployments waited for.
    Evaluation,
    /// The deployment re-evaluation schedule.
    Reevaluation,
    /// The software update scan schedule (run when the client is next on
    /// and free, if it was off or busy when it fired).
    Schedule,
    /// A Required deployment's download or install is due (at its
    /// deadline, a download resumed, a user's early install), no other
    /// scan is, and the last results are not current (past their time to
    /// live, or fetched before the site's last sync): the client scans
    /// before it enforces.
    Enforcement,
    /// After an install or a restart: a forced scan, offline, on the
    /// metadata the client has.
    Verification,
}

impl ScanCause {
    /// Every cause, in the order the summary lists them.
    pub const ALL: [ScanCause; 5] = [
        ScanCause::Evaluation,
        ScanCause::Reevaluation,
        ScanCause::Schedule,
        ScanCause::Enforcement,
        ScanCause::Verification,
    ];

    /// Whether the scan fetches metadata from a SUP: every scan but a
    /// verification.
    pub fn online(self) -> bool {
        self != ScanCause::Verification
    }
}

impl World<'_> {
    /// The SUP a client currently scans against.
    pub(crate) fn current_sup(&self, c: ClientId) -> SupId {
        let cohort = self.cohort(c);
        cohort.sups[usize::from(self.clients[c].sup_index) % cohort.sups.len()]
    }

    /// A scan that did not finish runs again at `at`: the deployments it was
    /// evaluating or verifying wait for it, and so does the scheduled scan
    /// if it was one.
    pub(crate) fn requeue_scan(&mut self, c: ClientId, at: SimTime) {
        let client = &mut self.clients[c];
        if std::mem::take(&mut client.scan_scheduled) {
            client.scan_due = client.scan_due.min(at);
        }
        self.deployments.change_assignments(c, |_, a| {
            match a.phase {
                Phase::Evaluating => {
                    a.phase = Phase::EvalDue;
                    a.due = at;
                }
                Phase::Verifying => {
                    a.phase = Phase::VerifyDue;
                    a.due = at;
                }
                Phase::ConfirmDownload => {
                    a.phase = Phase::NeedDownload;
                    a.due = at;
                }
                Phase::ConfirmInstall => {
                    a.phase = Phase::WaitDeadline;
                    a.due = at;
                }
                _ => return false,
            }
            true
        });
    }

    /// Starts a scan attempt. An online one asks the client's MP for the
    /// location first if the client needs it, else sends the scan request
    /// to its SUP; an offline one evaluates the metadata the client has and
    /// never reaches a server. `scheduled`: it is also the scheduled scan.
    pub(crate) fn start_scan(
        &mut self,
        c: ClientId,
        cause: ScanCause,
        scheduled: bool,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let online = cause.online();
        let client = &mut self.clients[c];
        client.action = Action::Scan;
        client.action_started = now;
        client.scan_token = client.scan_token.wrapping_add(1);
        client.scan_cause = cause;
        client.scan_scheduled = scheduled;
        if self.recorder.tracing() {
            let sup = (online && !self.clients[c].gpo_conflict).then(|| self.current_sup(c).0);
            self.recorder.trace(now, Some(c), || TraceEvent::ScanStart {
                source: if online {
                    ScanSource::UpdatePoint
                } else {
                    ScanSource::LocalMetadata
                },
                sup,
                cause,
            });
        }
        if !online {
            let local = self
                .settings(c)
                .scan_duration
                .sample(&mut self.clients.rng(c));
            self.clients[c].action_timer = Some(sched.after(local, Event::ActionDone(c)));
            return;
        }
        if self.clients[c].needs_location {
            let mp = self.mp_station(c);
            let job = self.job(c, Request::Location, now);
            match self.offer(mp, job, sched) {
                Offer::Rejected => {
                    self.scan_failed(c, TransientScanFailure::ManagementPoint, sched)
                }
                Offer::Start(_) | Offer::Queued => {}
            }
        } else {
            self.send_scan(c, sched);
        }
    }

    /// The scan request goes to the client's current SUP.
    fn send_scan(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        if self.clients[c].gpo_conflict {
            // Its domain GPO points Windows Update at another server: the
            // scan goes there, never to this site's SUP, and fails here.
            let local = self
                .settings(c)
                .scan_duration
                .sample(&mut self.clients.rng(c));
            self.clients[c].action_timer = Some(sched.after(local, Event::ActionDone(c)));
            return;
        }
        let sup = self.current_sup(c);
        let kind = if self.clients[c].scanned_susdb == self.estate.update_points[sup.index()].susdb
        {
            Request::DeltaScan
        } else {
            Request::FullScan
        };
        let station = self.servers.sup_station(sup);
        let job = self.job(c, kind, now);
        if self.offer(station, job, sched) == Offer::Rejected {
            self.scan_failed(c, TransientScanFailure::UpdatePoint, sched);
        }
    }

    /// Whether a served or failed request still belongs to the client's
    /// current scan attempt.
    pub(crate) fn scan_is_current(&self, c: ClientId, token: u32) -> bool {
        let client = &self.clients[c];
        client.action == Action::Scan && client.scan_token == token && client.action_timer.is_none()
    }

    /// The MP told the client where its SUP is.
    pub(crate) fn location_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        if !self.scan_is_current(job.client, job.token) {
            return;
        }
        self.clients[job.client].needs_location = false;
        self.clients.clear_mp_failures(job.client);
        self.send_scan(job.client, sched);
    }

    /// The SUP answered the scan: the client evaluates locally, then the
    /// scan is done.
    pub(crate) fn scan_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        let c = job.client;
        if !self.scan_is_current(c, job.token) {
            return;
        }
        let now = sched.now();
        let cohort = self.clients.cohort(c).index();
        let ms = now.since(job.arrived).as_ms();
        self.recorder.timing(cohort, Timing::ScanResponse, ms);
        let p_error = self.cohort(c).scan_error_probability;
        if p_error > 0.0 && self.clients.rng(c).random::<f64>() < p_error {
            self.scan_failed(c, TransientScanFailure::Error, sched);
            return;
        }
        let sup = self.current_sup(c);
        let spec = &self.estate.update_points[sup.index()];
        let bytes = match job.kind {
            Request::FullScan => spec.full_scan_bytes,
            _ => spec.delta_scan_bytes,
        };
        if bytes > 0 {
            let station = self.servers.sup_station(sup);
            self.servers.stations_mut().sent(station, bytes);
            self.recorder.totals.scan_bytes += bytes;
        }
        let client = &mut self.clients[c];
        client.scanned_susdb = self.estate.update_points[sup.index()].susdb;
        client.sup_failures = 0;
        // A client in a branch location gets the answer across its WAN
        // link (the SUP is at the site).
        if bytes > 0
            && let Some(link) = self.cohort(c).location
        {
            if !self.scan_across_link(link, c, bytes, job.kind, sched) {
                self.scan_failed(c, TransientScanFailure::WanLink, sched);
            }
            return;
        }
        self.scan_answer_arrived(c, sched);
    }

    /// The SUP's answer is at the client: it evaluates the metadata
    /// locally, then the scan is done.
    pub(crate) fn scan_answer_arrived(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let local = self
            .settings(c)
            .scan_duration
            .sample(&mut self.clients.rng(c));
        self.clients[c].action_timer = Some(sched.after(local, Event::ActionDone(c)));
    }

    /// A scan attempt failed: the client gives up for now and tries again
    /// later (switching SUP after enough SUP failures).
    pub(crate) fn scan_failed(
        &mut self,
        c: ClientId,
        by: TransientScanFailure,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let settings = self.settings(c);
        let n_sups = self.cohort(c).sups.len() as u8;
        let client = &mut self.clients[c];
        debug_assert_eq!(client.action, Action::Scan);
        client.action = Action::Idle;
        client.scan_token = client.scan_token.wrapping_add(1);
        let retry = match by {
            TransientScanFailure::ManagementPoint => {
                self.recorder.totals.mp_rejects += 1;
                now + self.mp_backoff(c, now)
            }
            TransientScanFailure::UpdatePoint
            | TransientScanFailure::Error
            | TransientScanFailure::WanLink => {
                // To the client, a link that is down is a dropped
                // connection: an error, retried as a SUP's 503 is.
                if by == TransientScanFailure::UpdatePoint {
                    self.recorder.totals.scan_rejects += 1;
                } else {
                    self.recorder.totals.scan_errors += 1;
                }
                client.sup_failures += 1;
                // The first try and `scan_retries` retries failed: the
                // client moves on two minutes after the last.
                if u32::from(client.sup_failures) > settings.scan_retries {
                    client.sup_failures = 0;
                    if n_sups > 1 {
                        // One of the cohort's other SUPs, at random.
                        let step = self.clients.rng(c).random_range(1..n_sups);
                        let client = &mut self.clients[c];
                        client.sup_index = (client.sup_index + step) % n_sups;
                        client.needs_location = true;
                        self.recorder.totals.sup_switches += 1;
                    }
                    now + SimDuration::from_mins(2)
                } else {
                    now + settings.scan_retry_interval
                }
            }
        };
        // The failed scan runs again at the retry (whatever it was for).
        self.requeue_scan(c, retry);
        self.queue(c, TOPIC_SCAN, SCAN_PENDING_RETRY, 0, now);
        sched.at_fixed(retry, Event::Wake(c));
        self.refresh(c, now);
        self.recorder
            .trace(now, Some(c), || TraceEvent::ScanFailed {
                by: by.into(),
                retry_ms: Some(retry.since(now).as_ms()),
            });
        self.next_action(c, sched);
    }
}
