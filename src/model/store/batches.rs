//! Where batches of state messages live between a client and the
//! database: [`BatchArena`].
//!
//! Owns the layout: a batch is one cache line (its client, its flags and,
//! inline, the two or three messages a batch usually holds), kept in slots
//! that are reused, so that the events of a batch in transit name it by a
//! small number and a hint can load it.

use smallvec::SmallVec;

use crate::engine;
use crate::estate::ClientId;
use crate::model::compliance::StateMsg;

/// Messages a batch holds without a separate allocation.
const INLINE: usize = 3;

/// A batch of state messages on its way from a client to the database.
#[derive(Default)]
#[repr(align(64))]
pub(crate) struct Batch {
    /// Whose it is.
    pub(crate) client: ClientId,
    /// The serial number of its first message, modulo 2^16 (the site
    /// detects a gap by it; a gap of 65,536 messages would go unseen).
    pub(crate) serial: u16,
    /// Its messages, oldest first.
    pub(crate) messages: SmallVec<[StateMsg; INLINE]>,
    /// The state system has finished it (it commits in arrival order).
    pub(crate) done: bool,
    /// Committed to its site's database (and waiting for replication).
    pub(crate) in_database: bool,
}

/// The batches in transit, by slot, and the free slots.
#[derive(Default)]
pub(crate) struct BatchArena {
    slots: Vec<Batch>,
    free: Vec<u32>,
}

impl BatchArena {
    /// A new, empty batch of client `c` in a free slot: its slot.
    pub(crate) fn open(&mut self, c: ClientId) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Batch::default());
                (self.slots.len() - 1) as u32
            }
        };
        let batch = &mut self.slots[slot as usize];
        batch.client = c;
        batch.done = false;
        batch.in_database = false;
        slot
    }

    /// The batch in `slot`.
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &Batch {
        &self.slots[slot as usize]
    }

    /// The batch in `slot`, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> &mut Batch {
        &mut self.slots[slot as usize]
    }

    /// The batch in `slot` is gone (in every database, or back on its
    /// client): its slot is free again.
    /// A batch that spilled gives its storage back: a slot keeping a long
    /// batch's capacity would hold it for the rest of the run, and a few
    /// thousand slots that once held a scan's thousands of messages each
    /// would outweigh every client's queue.
    pub(crate) fn close(&mut self, slot: u32) {
        let messages = &mut self.slots[slot as usize].messages;
        if messages.spilled() {
            *messages = SmallVec::new();
        } else {
            messages.clear();
        }
        self.free.push(slot);
    }

    /// Messages in batches not yet in their site's database.
    pub(crate) fn messages_in_transit(&self) -> u64 {
        self.slots
            .iter()
            .filter(|b| !b.in_database)
            .map(|b| b.messages.len() as u64)
            .sum()
    }

    /// The client of the batch in `slot`, for a hint (the slot may not
    /// hold a batch yet).
    #[inline]
    pub(super) fn client_of(&self, slot: u32) -> Option<ClientId> {
        self.slots.get(slot as usize).map(|b| b.client)
    }

    /// Starts loading the batch in `slot`.
    #[inline]
    pub(super) fn hint(&self, slot: u32) {
        if let Some(batch) = self.slots.get(slot as usize) {
            engine::prefetch(batch);
        }
    }

    /// Starts loading the messages of the batch in `slot`.
    #[inline]
    pub(super) fn hint_messages(&self, slot: u32) {
        if let Some(batch) = self.slots.get(slot as usize) {
            engine::prefetch(batch.messages.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch is one cache line, its usual messages inline.
    #[test]
    fn a_batch_is_one_line() {
        assert_eq!(std::mem::size_of::<Batch>(), 64);
        assert_eq!(std::mem::size_of::<StateMsg>(), 16);
    }
}
