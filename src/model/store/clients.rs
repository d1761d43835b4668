//! Where the clients' state lives in memory: [`ClientTable`].
//!
//! Owns the layout, and nothing of what the fields mean (that is
//! `client.rs`'s [`Client`] and [`ClientCold`]). Most events of a big
//! estate read one client whose record is nowhere near the cache, so:
//! - each client's record is two aligned cache lines: the few bytes that
//!   policy answers and committed batches read ([`Hot`]: cohort, what it
//!   has learned, MP failures, its last scan report, the state-message
//!   serial numbers it and its site are at) come first, in one line, then
//!   its [`Client`] fields;
//! - what a policy poll reads and writes (on, request out, polling, up to
//!   date) is a byte of its own per client (its *flags*): a poll touches
//!   nothing else of the client (its event names its management point's
//!   station), and a million bytes stay in cache where a million records
//!   cannot;
//! - fields read rarely live in a side array ([`ClientCold`]), so that
//!   adding one costs the hot path nothing;
//! - its states of the catalog's updates are one small record each, side
//!   by side ([`UpdateState`]), and all of it is in huge-page arenas.
//!
//! Reading whether a policy request is out, or switching a client on or
//! off, takes an [`AnswerSettled`]: the proof that its own silent policy
//! answer, if it has one, was applied first (see `store::service`).

use crate::engine::{self, arena, arena_with_capacity};
use crate::estate::{ClientId, CohortId};
use crate::model::client::{Client, ClientCold, UpdateState};

/// The bytes of a client that a policy answer and a committed batch read,
/// in one line of its record.
#[derive(Clone, Copy, Debug)]
#[repr(align(16))]
struct Hot {
    cohort: u16,
    /// How many of its site's published deployments it has learned.
    known_deployments: u16,
    /// Failed MP requests in a row ([`FAILING`] says whether not zero).
    mp_failures: u8,
    /// It has the software updates policy.
    has_update_policy: bool,
    /// Its last scan state (topic 501) in its site's and in the CAS's
    /// database.
    reported_scan: [u8; 2],
    /// The serial number of the next state message it hands its MP (the
    /// client's count of messages sent).
    next_serial: u32,
    /// The serial number its site's state system expects next (the
    /// site's): a batch that starts later shows a gap.
    expected_serial: u32,
}

/// One client's record: two aligned cache lines, the hot bytes first.
#[repr(C, align(64))]
struct Slot {
    hot: Hot,
    client: Client,
}

/// Switched on.
const ONLINE: u8 = 1;
/// A policy request is out.
const PENDING: u8 = 2;
/// Its periodic poll chain is running (it stops while the client is off).
const POLLING: u8 = 4;
/// [`Hot::mp_failures`] is not zero.
const FAILING: u8 = 8;
/// It has everything its site has published.
const CURRENT: u8 = 16;
/// Its polls are counted, not simulated (see `quiet.rs`).
const QUIET: u8 = 32;
/// It has notes of changes no refresh has taken since an earlier event
/// (see `touched.rs`).
const LINGERING: u8 = 64;
/// It uses one of its cohort's other management points, its own having
/// failed it.
const ELSEWHERE: u8 = 128;

/// Which database's copy of a client's reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Database {
    /// Its primary site's (the only one of a standalone site).
    Site = 0,
    /// The central administration site's (a hierarchy only).
    Cas = 1,
}

/// Proof that a client's own policy answer, if one ended silently before
/// now, has been applied (see `store::service`): switching the client on
/// or off, or reading whether its request is out, takes one.
#[derive(Debug)]
pub(crate) struct AnswerSettled {
    pub(super) _private: (),
}

/// Everything needed to add a client to the table.
pub(crate) struct NewClient {
    /// Its cohort.
    pub(crate) cohort: CohortId,
    /// Whether it has the software updates policy at the start.
    pub(crate) has_update_policy: bool,
    /// Its fields.
    pub(crate) client: Client,
}

/// Every client's state, laid out for the events that read it.
pub(crate) struct ClientTable {
    slots: Vec<Slot>,
    flags: Vec<u8>,
    cold: Vec<ClientCold>,
    updates: Vec<UpdateState>,
    n_updates: usize,
}

impl ClientTable {
    /// An empty table with room for `clients` clients of `updates` updates
    /// each.
    pub(crate) fn with_capacity(clients: usize, updates: usize) -> Self {
        ClientTable {
            slots: arena_with_capacity(clients),
            flags: arena_with_capacity(clients),
            cold: arena(clients, ClientCold::default()),
            updates: arena_with_capacity(clients * updates),
            n_updates: updates,
        }
    }

    /// Adds the next client, with its states of every update in order.
    pub(crate) fn push(&mut self, new: NewClient, updates: impl IntoIterator<Item = UpdateState>) {
        self.slots.push(Slot {
            hot: Hot {
                cohort: new.cohort.0,
                known_deployments: 0,
                mp_failures: 0,
                has_update_policy: new.has_update_policy,
                reported_scan: [0; 2],
                next_serial: 0,
                expected_serial: 0,
            },
            client: new.client,
        });
        self.flags.push(POLLING);
        let before = self.updates.len();
        self.updates.extend(updates);
        debug_assert_eq!(self.updates.len() - before, self.n_updates);
    }

    /// How many clients there are.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Client `c`'s fields.
    #[inline]
    pub(crate) fn get(&self, c: ClientId) -> &Client {
        &self.slots[c.index()].client
    }

    /// Client `c`'s fields, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, c: ClientId) -> &mut Client {
        &mut self.slots[c.index()].client
    }

    /// Client `c`'s rarely read fields.
    #[inline]
    pub(crate) fn cold(&self, c: ClientId) -> &ClientCold {
        &self.cold[c.index()]
    }

    /// Client `c`'s rarely read fields, to change.
    #[inline]
    pub(crate) fn cold_mut(&mut self, c: ClientId) -> &mut ClientCold {
        &mut self.cold[c.index()]
    }

    /// Every client's fields, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().map(|s| &s.client)
    }

    // --- the hot bytes ---

    /// Its cohort.
    #[inline]
    pub(crate) fn cohort(&self, c: ClientId) -> CohortId {
        CohortId(self.slots[c.index()].hot.cohort)
    }

    /// How many of its site's published deployments it has learned.
    #[inline]
    pub(crate) fn known_deployments(&self, c: ClientId) -> usize {
        usize::from(self.slots[c.index()].hot.known_deployments)
    }

    /// It has learned the first `n` of its site's published deployments.
    pub(crate) fn set_known_deployments(&mut self, c: ClientId, n: usize) {
        self.slots[c.index()].hot.known_deployments = n as u16;
    }

    /// Whether it has the software updates policy.
    #[inline]
    pub(crate) fn has_update_policy(&self, c: ClientId) -> bool {
        self.slots[c.index()].hot.has_update_policy
    }

    /// It receives the software updates policy.
    pub(crate) fn grant_update_policy(&mut self, c: ClientId) {
        self.slots[c.index()].hot.has_update_policy = true;
    }

    /// Its last scan state (topic 501) in `db`.
    #[inline]
    pub(crate) fn reported_scan(&self, c: ClientId, db: Database) -> u8 {
        self.slots[c.index()].hot.reported_scan[db as usize]
    }

    /// A scan state of its reaches `db`.
    #[inline]
    pub(crate) fn set_reported_scan(&mut self, c: ClientId, db: Database, state: u8) {
        self.slots[c.index()].hot.reported_scan[db as usize] = state;
    }

    /// The serial number of its next state message.
    #[inline]
    pub(crate) fn next_serial(&self, c: ClientId) -> u32 {
        self.slots[c.index()].hot.next_serial
    }

    /// Sets the serial number of its next state message.
    #[inline]
    pub(crate) fn set_next_serial(&mut self, c: ClientId, serial: u32) {
        self.slots[c.index()].hot.next_serial = serial;
    }

    /// The serial number its site expects next from it.
    #[inline]
    pub(crate) fn expected_serial(&self, c: ClientId) -> u32 {
        self.slots[c.index()].hot.expected_serial
    }

    /// Sets the serial number its site expects next from it.
    #[inline]
    pub(crate) fn set_expected_serial(&mut self, c: ClientId, serial: u32) {
        self.slots[c.index()].hot.expected_serial = serial;
    }

    /// Counts one more MP failure in a row; returns how many there were
    /// before it.
    pub(crate) fn count_mp_failure(&mut self, c: ClientId) -> u8 {
        let failures = &mut self.slots[c.index()].hot.mp_failures;
        let before = *failures;
        *failures = failures.saturating_add(1);
        self.flags[c.index()] |= FAILING;
        before
    }

    /// It reached its MP: its failures in a row start again (read from its
    /// flags: the count is seldom not zero, and its record is not loaded
    /// for it).
    #[inline]
    pub(crate) fn clear_mp_failures(&mut self, c: ClientId) {
        let flags = &mut self.flags[c.index()];
        if *flags & FAILING != 0 {
            *flags &= !FAILING;
            self.slots[c.index()].hot.mp_failures = 0;
        }
    }

    // --- the flags ---

    /// Whether it is switched on.
    #[inline]
    pub(crate) fn online(&self, c: ClientId) -> bool {
        self.flags[c.index()] & ONLINE != 0
    }

    /// Switches it on or off, once its own silent answer is applied.
    #[inline]
    pub(crate) fn set_online(&mut self, c: ClientId, on: bool, _settled: &AnswerSettled) {
        self.set_flag(c, ONLINE, on);
    }

    /// Sets whether it is on at the start, before any request is out.
    pub(crate) fn set_online_at_start(&mut self, c: ClientId, on: bool) {
        debug_assert_eq!(self.flags[c.index()] & PENDING, 0, "nothing is out yet");
        self.set_flag(c, ONLINE, on);
    }

    /// Whether a policy request of its is out, once its own silent answer
    /// is applied.
    #[inline]
    pub(crate) fn request_out(&self, c: ClientId, _settled: &AnswerSettled) -> bool {
        self.flags[c.index()] & PENDING != 0
    }

    /// Whether a policy request of its is out or was answered silently
    /// without being settled yet: only the service layer asks, to know
    /// whether settling its MP is needed at all.
    #[inline]
    pub(super) fn request_maybe_out(&self, c: ClientId) -> bool {
        self.flags[c.index()] & PENDING != 0
    }

    /// A policy request of its goes out, or its answer (or failure) comes.
    #[inline]
    pub(crate) fn set_request_out(&mut self, c: ClientId, out: bool) {
        self.set_flag(c, PENDING, out);
    }

    /// Whether it uses another management point than its cohort's own.
    #[inline]
    pub(crate) fn elsewhere(&self, c: ClientId) -> bool {
        self.flags[c.index()] & ELSEWHERE != 0
    }

    /// It moves to another management point (`true`) or back to its own.
    #[inline]
    pub(crate) fn set_elsewhere(&mut self, c: ClientId, on: bool) {
        self.set_flag(c, ELSEWHERE, on);
    }

    /// Whether its periodic poll chain is running.
    #[inline]
    pub(crate) fn polling(&self, c: ClientId) -> bool {
        self.flags[c.index()] & POLLING != 0
    }

    /// Its poll chain stops (it is off) or runs again.
    #[inline]
    pub(crate) fn set_polling(&mut self, c: ClientId, on: bool) {
        self.set_flag(c, POLLING, on);
    }

    /// Whether it has everything its site has published (an answer to its
    /// policy request would be empty).
    #[inline]
    pub(crate) fn current(&self, c: ClientId) -> bool {
        self.flags[c.index()] & CURRENT != 0
    }

    /// Whether its polls are counted, not simulated.
    #[inline]
    pub(crate) fn quiet(&self, c: ClientId) -> bool {
        self.flags[c.index()] & QUIET != 0
    }

    /// Its polls are counted from now, or simulated again.
    #[inline]
    pub(crate) fn set_quiet(&mut self, c: ClientId, on: bool) {
        self.set_flag(c, QUIET, on);
    }

    /// Whether it has notes of changes from an earlier event.
    #[inline]
    pub(crate) fn lingering(&self, c: ClientId) -> bool {
        self.flags[c.index()] & LINGERING != 0
    }

    /// Records whether it has notes of changes from an earlier event.
    #[inline]
    pub(crate) fn set_lingering(&mut self, c: ClientId, on: bool) {
        self.set_flag(c, LINGERING, on);
    }

    /// Records whether it has everything its site has published.
    #[inline]
    pub(crate) fn set_current(&mut self, c: ClientId, current: bool) {
        self.set_flag(c, CURRENT, current);
    }

    #[inline]
    fn set_flag(&mut self, c: ClientId, bit: u8, on: bool) {
        let flags = &mut self.flags[c.index()];
        if on {
            *flags |= bit;
        } else {
            *flags &= !bit;
        }
    }

    // --- the update states ---

    /// Its states of every update, in update order.
    #[inline]
    pub(crate) fn updates(&self, c: ClientId) -> &[UpdateState] {
        let n = self.n_updates;
        &self.updates[c.index() * n..(c.index() + 1) * n]
    }

    /// Its state of update `u`.
    #[inline]
    pub(crate) fn update(&self, c: ClientId, u: usize) -> &UpdateState {
        &self.updates[c.index() * self.n_updates + u]
    }

    /// Its state of update `u`, to change.
    #[inline]
    pub(crate) fn update_mut(&mut self, c: ClientId, u: usize) -> &mut UpdateState {
        &mut self.updates[c.index() * self.n_updates + u]
    }

    /// Every client's state of every update, client by client.
    pub(crate) fn all_updates_mut(&mut self) -> &mut [UpdateState] {
        &mut self.updates
    }

    // --- hints ---

    /// Starts loading its flags.
    #[inline]
    pub(super) fn hint_flags(&self, c: ClientId) {
        if let Some(flags) = self.flags.get(c.index()) {
            engine::prefetch(flags);
        }
    }

    /// Starts loading the line of its record that holds the hot bytes.
    #[inline]
    pub(super) fn hint_hot(&self, c: ClientId) {
        if let Some(slot) = self.slots.get(c.index()) {
            engine::prefetch(&slot.hot);
        }
    }

    /// Starts loading its whole record.
    #[inline(always)]
    pub(super) fn hint_record(&self, c: ClientId) {
        if let Some(slot) = self.slots.get(c.index()) {
            engine::prefetch(slot);
        }
    }

    /// Starts loading its update states.
    #[inline]
    pub(super) fn hint_updates(&self, c: ClientId) {
        if c.index() < self.slots.len() {
            engine::prefetch(self.updates(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's record is two aligned cache lines, its hot bytes in the
    /// first; its state of an update four bytes. Fields
    /// that most events read go into `Client` while it fits; the others go
    /// into `ClientCold`, which may grow freely.
    #[test]
    fn a_client_record_stays_in_two_cache_lines() {
        assert_eq!(std::mem::align_of::<Slot>(), 64);
        assert!(
            std::mem::size_of::<Slot>() <= 128,
            "a client's record grew past two cache lines ({} bytes): most events read it, \
             so put fields that few events read into ClientCold",
            std::mem::size_of::<Slot>()
        );
        assert_eq!(std::mem::offset_of!(Slot, hot), 0);
        assert_eq!(std::mem::size_of::<Hot>(), 16);
        assert_eq!(std::mem::size_of::<UpdateState>(), 4);
    }

    /// The flags are independent bits.
    #[test]
    fn flags_are_independent() {
        let bits = [ONLINE, PENDING, POLLING, FAILING, CURRENT];
        for (i, a) in bits.iter().enumerate() {
            for b in &bits[i + 1..] {
                assert_eq!(a & b, 0);
            }
        }
    }
}
