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

/// One assignment in a cache line of its own.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Line(LiveAssignment);

/// Every client's assignment to every deployment.
pub(crate) struct AssignmentTable {
    by_deployment: Vec<Vec<Line>>,
}

impl AssignmentTable {
    /// `deployments` × `clients` assignments, all `initial`.
    pub(crate) fn new(deployments: usize, clients: usize, initial: LiveAssignment) -> Self {
        AssignmentTable {
            by_deployment: (0..deployments)
                .map(|_| arena(clients, Line(initial)))
                .collect(),
        }
    }

    /// Client `c`'s assignment to deployment `d`.
    #[inline]
    pub(crate) fn get(&self, d: DeploymentId, c: ClientId) -> &LiveAssignment {
        &self.by_deployment[d.index()][c.index()].0
    }

    /// Client `c`'s assignment to deployment `d`, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, d: DeploymentId, c: ClientId) -> &mut LiveAssignment {
        &mut self.by_deployment[d.index()][c.index()].0
    }

    /// Client `c`'s assignments, in deployment order, to change.
    #[inline]
    pub(crate) fn of_client_mut(
        &mut self,
        c: ClientId,
    ) -> impl Iterator<Item = &mut LiveAssignment> {
        self.by_deployment
            .iter_mut()
            .map(move |d| &mut d[c.index()].0)
    }

    /// Takes every client's assignment to deployment `d`, in client order,
    /// out of the table (at the end of a run: its memory goes as soon as
    /// the caller is done with them).
    pub(crate) fn take_deployment(
        &mut self,
        d: DeploymentId,
    ) -> impl Iterator<Item = LiveAssignment> + use<> {
        std::mem::take(&mut self.by_deployment[d.index()])
            .into_iter()
            .map(|line| line.0)
    }

    /// Starts loading client `c`'s assignments.
    #[inline]
    pub(super) fn hint(&self, c: ClientId) {
        for d in &self.by_deployment {
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
}
