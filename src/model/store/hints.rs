//! Hints: for each event, the memory its handler will read, loaded a few
//! events ahead.
//!
//! At a million clients nearly every event reads a client whose record,
//! update states, assignments and queue are far from the cache. The engine
//! tells the model of an event to come ([`World::hint`], about sixteen
//! events ahead, and [`World::hint_through`], about half as far, for
//! events whose client is only known through a batch or a station's slot,
//! which the first hint loaded). The dispatch is an exhaustive `match` over
//! [`Event`], so a new event cannot be silently left without one: it must
//! say what it reads, or that it reads nothing worth loading. A hint never
//! changes what a run computes, only when its memory arrives.

use crate::estate::ClientId;
use crate::model::events::Event;
use crate::model::world::World;

impl World<'_> {
    /// What the handler of `event` reads first. A poll (every periodic
    /// timer's event, offered a few at a time, and dealt with inline) reads
    /// its client's flags and nothing else of it, and of its management
    /// point first the lines that say whether an answer has ended and which
    /// workers are free; the other kinds are in
    /// [`hint_other`](Self::hint_other).
    #[inline]
    pub(crate) fn hint(&self, event: &Event) {
        if let Event::PolicyPoll(c, mp) = *event {
            self.clients.store().0.hint_flags(c);
            self.servers.stations().hint_arrival(usize::from(mp));
            return;
        }
        self.hint_other(event);
    }

    /// The events of a batch and of a request's ending name their client
    /// through the batch or the station's slot, which [`hint`](Self::hint)
    /// loaded a few events ago: now the client's records can be loaded too,
    /// and a batch's messages when there are more than its record holds.
    #[inline]
    pub(crate) fn hint_through(&self, event: &Event) {
        match *event {
            // A forwarded batch's service at the state system ends soon
            // after, usually too soon for that ending to be hinted, and
            // committing the batch reads the client's hot bytes (its scan
            // state), assignments and update states, as a replicated batch
            // does at once; nothing else of its record.
            Event::BatchForwarded(slot) | Event::Replicated(slot) => {
                let batches = self.site.batches();
                if let Some(c) = batches.client_of(slot) {
                    self.clients.store().0.hint_hot(c);
                    self.hint_reports(c);
                    batches.hint_messages(slot);
                }
            }
            // An answer may queue messages (a scan's), or find the client
            // free to report again (a batch's).
            Event::Served(station, slot) => {
                if let Some(c) = self
                    .servers
                    .stations()
                    .client_in(usize::from(station), slot)
                {
                    self.hint_client(c);
                    self.clients.store().1.hint(c);
                }
            }
            Event::SyncStart(_)
            | Event::SyncPoll
            | Event::SyncInserted
            | Event::SyncRetry
            | Event::SiteSynced(..)
            | Event::ContentReady(..)
            | Event::PhaseBegin(_)
            | Event::Suspend(_)
            | Event::Resume(_)
            | Event::PolicyToggle(..)
            | Event::RuleRun(_)
            | Event::Sample
            | Event::PolicyPoll(..)
            | Event::PolicyRequest(_)
            | Event::PolicyRetry(_)
            | Event::ScanCycle(_)
            | Event::ReevaluationCycle(_)
            | Event::Wake(_)
            | Event::ActionDone(_)
            | Event::RestartDue(_)
            | Event::BackgroundInstallDone(..)
            | Event::ReportCycle(_)
            | Event::InstallReport(_)
            | Event::ResyncDue(_)
            | Event::DpTick(_)
            | Event::LinkTick(_)
            | Event::CopyPace(_)
            | Event::FaultBegin(_)
            | Event::FaultEnd(_)
            | Event::PoolRestarted(_)
            | Event::PowerOn(_)
            | Event::PowerOff(_) => {}
        }
    }

    /// [`hint`](Self::hint) for every event but a poll.
    #[inline(never)]
    fn hint_other(&self, event: &Event) {
        let (table, outboxes) = self.clients.store();
        match *event {
            Event::BatchForwarded(slot) | Event::Replicated(slot) => {
                self.site.batches().hint(slot);
            }
            Event::Served(station, slot) => {
                self.servers
                    .stations()
                    .hint_slot(usize::from(station), slot);
            }
            Event::DpTick(dp) => {
                if let Some(c) = self.servers.dp(dp).next_done() {
                    outboxes.hint(c);
                    self.hint_client(c);
                }
            }
            // A policy request reads the client's hot bytes (for its MP)
            // and its poll word, nothing else of it: one line of its record.
            Event::PolicyRequest(c) | Event::PolicyRetry(c) => {
                table.hint_hot(c);
                table.hint_flags(c);
            }
            // Switching off reads the record (hot bytes included) and the
            // update states, not the assignments.
            Event::PowerOff(c) => {
                table.hint_record(c);
                table.hint_updates(c);
            }
            // A finished action or a reporting cycle reads or adds to the
            // client's queue of state messages, and a switch-on looks at
            // it: it is apart from the record. (A reporting cycle reads no
            // assignment but keeps the full hint: the month of a million
            // clients ran slower without it.)
            Event::ScanCycle(c)
            | Event::Wake(c)
            | Event::ActionDone(c)
            | Event::ReportCycle(c)
            | Event::InstallReport(c)
            | Event::PowerOn(c) => {
                outboxes.hint(c);
                self.hint_client(c);
            }
            // A background install's end changes an update state and
            // brings the client's cells up to date.
            Event::ReevaluationCycle(c)
            | Event::RestartDue(c)
            | Event::BackgroundInstallDone(c, _) => self.hint_client(c),
            // The site's and the servers' own events read little, and
            // often; polls are hinted in `hint`.
            Event::SyncStart(_)
            | Event::SyncPoll
            | Event::SyncInserted
            | Event::SyncRetry
            | Event::SiteSynced(..)
            | Event::ContentReady(..)
            | Event::PhaseBegin(_)
            | Event::Suspend(_)
            | Event::Resume(_)
            | Event::PolicyToggle(..)
            | Event::RuleRun(_)
            | Event::Sample
            | Event::LinkTick(_)
            | Event::CopyPace(_)
            | Event::FaultBegin(_)
            | Event::FaultEnd(_)
            | Event::PoolRestarted(_)
            // Rare: a resync check reads two flags of the client.
            | Event::ResyncDue(_)
            | Event::PolicyPoll(..) => {}
        }
    }

    /// A policy answer that ends as an event (one with news for the client,
    /// or at an MP where a queue has formed) ends within milliseconds,
    /// usually too soon for its event to be hinted, and learning a
    /// deployment reads the client's record and assignments: loaded as its
    /// service starts.
    #[inline(always)]
    pub(super) fn hint_policy_answer(&self, c: ClientId) {
        self.hint_client(c);
    }

    /// Starts loading a client's record, update states and assignments:
    /// what most of its events read. (Always inlined: as a call of its own,
    /// on the run loop's path, it was measurably slower.)
    #[inline(always)]
    fn hint_client(&self, c: ClientId) {
        self.clients.store().0.hint_record(c);
        self.hint_reports(c);
    }

    /// Starts loading what bringing a client's cells up to date reads
    /// besides its record (whose hot bytes it reads too): its update states
    /// and its assignments.
    #[inline]
    fn hint_reports(&self, c: ClientId) {
        self.clients.store().0.hint_updates(c);
        self.deployments.table().hint(c);
    }
}
