//! What changed about which clients since their cells were last
//! refreshed: [`Touched`].
//!
//! A client's event changes a few of its deployments and updates; the
//! refresh after it recomputes the cells of those alone, not of every
//! deployment the client has. Each change is noted here as it is made
//! (by the setters of the parts that own the state), and the refresh
//! takes the client's notes. Nearly always the refresh comes in the
//! event that made them, and taking them is a drain of this event's
//! notes. When one does not (a policy that only plans an evaluation,
//! say), the notes are dropped at the end of the event and the client is
//! flagged as *lingering*: its next refresh recomputes every deployment
//! it has.

use crate::estate::ClientId;

/// This event's notes of `(client, what)`: a deployment or an update of
/// a client that may have changed, in the order they were made.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    recent: Vec<(ClientId, u16)>,
}

impl Touched {
    /// Notes that `what` of client `c` may have changed.
    #[inline]
    pub(crate) fn note(&mut self, c: ClientId, what: u16) {
        if self.recent.last() != Some(&(c, what)) {
            self.recent.push((c, what));
        }
    }

    /// Moves this event's notes of client `c` into `out`.
    #[inline]
    pub(crate) fn take(&mut self, c: ClientId, out: &mut Vec<u16>) {
        if self.recent.iter().all(|&(n, _)| n == c) {
            out.extend(self.recent.drain(..).map(|(_, what)| what));
            return;
        }
        self.recent.retain(|&(n, what)| {
            if n == c {
                out.push(what);
            }
            n != c
        });
    }

    /// At the end of an event: drops the notes no refresh took, calling
    /// `linger` with the client of each (to set its flag).
    #[inline]
    pub(crate) fn settle(&mut self, mut linger: impl FnMut(ClientId)) {
        for (c, _) in self.recent.drain(..) {
            linger(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Taking one client's notes leaves the others', and a note repeated
    /// at once is kept once; the notes left at the end of the event name
    /// their clients and are gone.
    #[test]
    fn taking_a_clients_notes_keeps_the_others() {
        let mut t = Touched::default();
        let (a, b) = (ClientId(1), ClientId(2));
        t.note(a, 3);
        t.note(a, 3);
        t.note(b, 4);
        t.note(a, 5);
        t.note(b, 6);
        let mut out = Vec::new();
        t.take(a, &mut out);
        assert_eq!(out, [3, 5]);
        let mut lingering = Vec::new();
        t.settle(|c| lingering.push(c));
        assert_eq!(lingering, [b, b]);
        out.clear();
        t.take(b, &mut out);
        assert!(out.is_empty());
    }
}
