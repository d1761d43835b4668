//! Where each client's assignment to each deployment lives:
//! [`AssignmentTable`].
//!
//! Owns the layout only (what an assignment holds is `deployment.rs`'s
//! [`LiveAssignment`]). Most events of a client read its assignment to
//! every deployment, so each one is a cache line of its own, aligned, in a
//! huge-page arena per deployment.

use crate::engine::{self, arena};
use crate::estate::{ClientId, DeploymentId};
use crate::model::deployment::LiveAssignment;

/// How many of a client's assignments a hint loads, at most.
const HINTED: usize = 4;

/// One assignment in a cache line of its own.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Line(LiveAssignment);

/// Every client's assignment to every deployment.
///
/// A deployment's column of assignments is made at its first change: until
/// then (a deployment an automatic deployment rule's run may make, and has
/// not) every client reads `initial`, and the column takes no memory.
pub(crate) struct AssignmentTable {
    by_deployment: Vec<Vec<Line>>,
    clients: usize,
    initial: LiveAssignment,
}

impl AssignmentTable {
    /// `deployments` × `clients` assignments, all `initial`; the columns of
    /// the deployments `later` names are made when first changed.
    pub(crate) fn new(
        clients: usize,
        initial: LiveAssignment,
        later: impl ExactSizeIterator<Item = bool>,
    ) -> Self {
        AssignmentTable {
            by_deployment: later
                .map(|later| {
                    if later {
                        Vec::new()
                    } else {
                        arena(clients, Line(initial))
                    }
                })
                .collect(),
            clients,
            initial,
        }
    }

    /// Client `c`'s assignment to deployment `d`.
    #[inline]
    pub(crate) fn get(&self, d: DeploymentId, c: ClientId) -> &LiveAssignment {
        (self.by_deployment[d.index()].get(c.index())).map_or(&self.initial, |line| &line.0)
    }

    /// Client `c`'s assignment to deployment `d`, to change (making `d`'s
    /// column if it has none yet).
    #[inline]
    pub(crate) fn get_mut(&mut self, d: DeploymentId, c: ClientId) -> &mut LiveAssignment {
        let column = &mut self.by_deployment[d.index()];
        if column.is_empty() {
            *column = arena(self.clients, Line(self.initial));
        }
        &mut column[c.index()].0
    }

    /// Client `c`'s assignments, in deployment order, to change: those of
    /// deployments with a column (the others are all `initial`, which
    /// nothing that walks a client's assignments changes).
    #[inline]
    pub(crate) fn of_client_mut(
        &mut self,
        c: ClientId,
    ) -> impl Iterator<Item = (DeploymentId, &mut LiveAssignment)> {
        (self.by_deployment.iter_mut().enumerate()).filter_map(move |(d, column)| {
            let line = column.get_mut(c.index())?;
            Some((DeploymentId(d as u16), &mut line.0))
        })
    }

    /// Takes every client's assignment to deployment `d`, in client order,
    /// out of the table (at the end of a run: its memory goes as soon as
    /// the caller is done with them); none if `d`'s column was never made.
    pub(crate) fn take_deployment(
        &mut self,
        d: DeploymentId,
    ) -> impl Iterator<Item = LiveAssignment> + use<> {
        std::mem::take(&mut self.by_deployment[d.index()])
            .into_iter()
            .map(|line| line.0)
    }

    /// Whether deployment `d` has a column yet.
    #[cfg(test)]
    fn made(&self, d: DeploymentId) -> bool {
        !self.by_deployment[d.index()].is_empty()
    }

    /// Starts loading client `c`'s assignments: those of the first
    /// [`HINTED`] deployments (a client of many reads only the few its
    /// event changes, and loading them all would cost more than it saves).
    #[inline]
    pub(super) fn hint(&self, c: ClientId) {
        for d in self.by_deployment.iter().take(HINTED) {
            if let Some(line) = d.get(c.index()) {
                engine::prefetch(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An assignment is one cache line: most events read one per
    /// deployment.
    #[test]
    fn an_assignment_is_one_line() {
        assert_eq!(std::mem::size_of::<Line>(), 64);
        assert_eq!(std::mem::align_of::<Line>(), 64);
    }

    /// A deployment made later reads `initial` everywhere and holds no
    /// column until its first change; walks over a client's assignments
    /// pass it by until then.
    #[test]
    fn a_later_column_is_made_at_its_first_change() {
        let initial = LiveAssignment::UNTARGETED;
        let mut t = AssignmentTable::new(10, initial, [false, true].into_iter());
        let (now, later, c) = (DeploymentId(0), DeploymentId(1), ClientId(3));
        assert!(t.made(now) && !t.made(later));
        assert_eq!(t.get(later, c).phase, initial.phase);
        assert_eq!(t.of_client_mut(c).count(), 1);
        t.get_mut(later, c).due = crate::engine::SimTime(5);
        assert!(t.made(later));
        assert_eq!(t.of_client_mut(c).count(), 2);
        assert_eq!(t.get(later, c).due, crate::engine::SimTime(5));
        assert_eq!(t.get(later, ClientId(4)).due, initial.due);
        assert_eq!(t.take_deployment(later).count(), 10);
    }
}
