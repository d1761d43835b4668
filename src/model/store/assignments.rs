//! Where each client's assignment to each deployment lives:
//! [`AssignmentTable`].
//!
//! Owns the layout only (what an assignment holds is `deployment.rs`'s
//! [`LiveAssignment`]). Most events of a client read its assignment to
//! every deployment that targets it, so each one is a cache line of its
//! own, aligned, in a huge-page arena per deployment. A deployment holds
//! lines for the clients it targets only, and a client's walk visits the
//! deployments that target it only: memory and time follow a client's
//! own deployments, not the scenario's.

use crate::engine::{self, arena};
use crate::estate::{ClientId, DeploymentId};
use crate::model::deployment::LiveAssignment;

/// How many of a client's assignments a hint loads, at most.
const HINTED: usize = 4;

/// One assignment in a cache line of its own.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Line(LiveAssignment);

/// Clients `start..end`, whose lines begin at `base` in their column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) base: u32,
}

/// Where a deployment's targeted clients sit in its column: their id
/// ranges, in order, disjoint and not touching.
#[derive(Clone, Debug, Default)]
pub(crate) struct Targets {
    spans: Vec<Span>,
    len: u32,
}

impl Targets {
    /// The clients of the given id ranges (in any order; overlapping and
    /// touching ranges merge).
    pub(crate) fn new(ranges: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut ranges: Vec<(u32, u32)> = ranges.into_iter().filter(|r| r.0 < r.1).collect();
        ranges.sort_unstable();
        let mut spans: Vec<Span> = Vec::with_capacity(ranges.len());
        let mut len = 0;
        for (start, end) in ranges {
            match spans.last_mut() {
                Some(last) if start <= last.end => {
                    if end > last.end {
                        len += end - last.end;
                        last.end = end;
                    }
                }
                _ => {
                    spans.push(Span {
                        start,
                        end,
                        base: len,
                    });
                    len += end - start;
                }
            }
        }
        Targets { spans, len }
    }

    /// Client `c`'s place among the targeted clients, if targeted.
    #[inline]
    pub(crate) fn slot(&self, c: ClientId) -> Option<usize> {
        let c = c.0;
        // Most deployments target one or a few ranges of cohorts.
        let span = if self.spans.len() <= 4 {
            self.spans.iter().find(|s| c < s.end)?
        } else {
            self.spans.get(self.spans.partition_point(|s| s.end <= c))?
        };
        (c >= span.start).then(|| (span.base + (c - span.start)) as usize)
    }

    /// Number of clients targeted.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// The ranges, in client order.
    #[cfg(test)]
    pub(crate) fn spans(&self) -> &[Span] {
        &self.spans
    }
}

/// One deployment's assignments: a line per targeted client, made at the
/// deployment's first change.
struct Column {
    targets: Targets,
    lines: Vec<Line>,
}

impl Column {
    fn make(&mut self, initial: LiveAssignment) {
        if self.lines.is_empty() {
            self.lines = arena(self.targets.len(), Line(initial));
        }
    }
}

/// Every client's assignment to every deployment that targets it.
///
/// A deployment's column is made at its first change: until then (a
/// deployment an automatic deployment rule's run may make, and has not)
/// every client reads `initial`, and the column takes no memory. A client
/// a deployment does not target always reads `initial`.
pub(crate) struct AssignmentTable {
    columns: Vec<Column>,
    /// The client ids where the set of deployments targeting a client
    /// changes, ascending, from 0: the clients `starts[i]..starts[i + 1]`
    /// are targeted by `deployments[at[i]..at[i + 1]]`, in order.
    starts: Vec<u32>,
    at: Vec<u32>,
    deployments: Vec<u16>,
    initial: LiveAssignment,
}

impl AssignmentTable {
    /// One column per deployment, of the clients its `Targets` name, all
    /// `initial`; those whose flag is true are made when first changed.
    pub(crate) fn new(
        initial: LiveAssignment,
        deployments: impl IntoIterator<Item = (Targets, bool)>,
    ) -> Self {
        let columns: Vec<Column> = (deployments.into_iter())
            .map(|(targets, later)| {
                let mut column = Column {
                    targets,
                    lines: Vec::new(),
                };
                if !later {
                    column.make(initial);
                }
                column
            })
            .collect();
        let mut starts: Vec<u32> = std::iter::once(0)
            .chain(
                columns
                    .iter()
                    .flat_map(|k| (k.targets.spans.iter()).flat_map(|s| [s.start, s.end])),
            )
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut at = Vec::with_capacity(starts.len() + 1);
        let mut lists: Vec<Vec<u16>> = vec![Vec::new(); starts.len()];
        for (d, k) in columns.iter().enumerate() {
            for s in &k.targets.spans {
                let first = starts.partition_point(|&x| x < s.start);
                let last = starts.partition_point(|&x| x < s.end);
                for list in &mut lists[first..last] {
                    list.push(d as u16);
                }
            }
        }
        let mut deployments = Vec::new();
        for list in lists {
            at.push(deployments.len() as u32);
            deployments.extend(list);
        }
        at.push(deployments.len() as u32);
        AssignmentTable {
            columns,
            starts,
            at,
            deployments,
            initial,
        }
    }

    /// The deployments that target client `c`, in order.
    #[inline]
    fn of(&self, c: ClientId) -> &[u16] {
        let i = self.starts.partition_point(|&x| x <= c.0) - 1;
        &self.deployments[self.at[i] as usize..self.at[i + 1] as usize]
    }

    /// Client `c`'s place in deployment `d`'s column, if `d` targets it.
    #[inline]
    pub(crate) fn slot(&self, d: DeploymentId, c: ClientId) -> Option<usize> {
        self.columns[d.index()].targets.slot(c)
    }

    /// The clients deployment `d` targets.
    pub(crate) fn targets(&self, d: DeploymentId) -> &Targets {
        &self.columns[d.index()].targets
    }

    /// Client `c`'s assignment to deployment `d`.
    #[inline]
    pub(crate) fn get(&self, d: DeploymentId, c: ClientId) -> &LiveAssignment {
        let column = &self.columns[d.index()];
        (column.targets.slot(c))
            .and_then(|i| column.lines.get(i))
            .map_or(&self.initial, |line| &line.0)
    }

    /// Client `c`'s assignment to deployment `d`, to change (making `d`'s
    /// column if it has none yet). Only a targeted client's assignment
    /// changes.
    #[inline]
    pub(crate) fn get_mut(&mut self, d: DeploymentId, c: ClientId) -> &mut LiveAssignment {
        let column = &mut self.columns[d.index()];
        let Some(i) = column.targets.slot(c) else {
            unreachable!("deployment {} does not target client {}", d.0, c.0)
        };
        column.make(self.initial);
        &mut column.lines[i].0
    }

    /// Client `c`'s assignments, in deployment order, to change: those of
    /// the deployments that target it and have a column (the others are
    /// all `initial`, which nothing that walks a client's assignments
    /// changes).
    #[inline]
    pub(crate) fn of_client_mut(
        &mut self,
        c: ClientId,
    ) -> impl Iterator<Item = (DeploymentId, &mut LiveAssignment)> {
        let i = self.starts.partition_point(|&x| x <= c.0) - 1;
        let ids = &self.deployments[self.at[i] as usize..self.at[i + 1] as usize];
        let mut rest: &mut [Column] = &mut self.columns;
        let mut next = 0;
        let mut ids = ids.iter();
        std::iter::from_fn(move || {
            loop {
                let d = usize::from(*ids.next()?);
                // The ids ascend: each column is split off the rest once.
                let (column, tail) = std::mem::take(&mut rest)[d - next..].split_first_mut()?;
                (rest, next) = (tail, d + 1);
                let slot = column.targets.slot(c);
                if let Some(line) = slot.and_then(|i| column.lines.get_mut(i)) {
                    return Some((DeploymentId(d as u16), &mut line.0));
                }
            }
        })
    }

    /// Takes deployment `d`'s assignments out of the table (at the end of
    /// a run: its memory goes as soon as the caller is done with them):
    /// the clients it targets, and one assignment each in their order;
    /// none if `d`'s column was never made.
    pub(crate) fn take_deployment(
        &mut self,
        d: DeploymentId,
    ) -> (Targets, impl Iterator<Item = LiveAssignment> + use<>) {
        let column = &mut self.columns[d.index()];
        let lines = std::mem::take(&mut column.lines);
        (column.targets.clone(), lines.into_iter().map(|line| line.0))
    }

    /// Whether deployment `d` has a column yet.
    #[cfg(test)]
    fn made(&self, d: DeploymentId) -> bool {
        !self.columns[d.index()].lines.is_empty()
    }

    /// Starts loading client `c`'s assignments: those of the first
    /// [`HINTED`] deployments that target it (a client of many reads only
    /// the few its event changes, and loading them all would cost more
    /// than it saves).
    #[inline]
    pub(super) fn hint(&self, c: ClientId) {
        for &d in self.of(c).iter().take(HINTED) {
            let column = &self.columns[usize::from(d)];
            if let Some(line) = (column.targets.slot(c)).and_then(|i| column.lines.get(i)) {
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
        let all = || Targets::new([(0, 10)]);
        let mut t = AssignmentTable::new(initial, [(all(), false), (all(), true)]);
        let (now, later, c) = (DeploymentId(0), DeploymentId(1), ClientId(3));
        assert!(t.made(now) && !t.made(later));
        assert_eq!(t.get(later, c).phase, initial.phase);
        assert_eq!(t.of_client_mut(c).count(), 1);
        t.get_mut(later, c).due = crate::engine::SimTime(5);
        assert!(t.made(later));
        assert_eq!(t.of_client_mut(c).count(), 2);
        assert_eq!(t.get(later, c).due, crate::engine::SimTime(5));
        assert_eq!(t.get(later, ClientId(4)).due, initial.due);
        assert_eq!(t.take_deployment(later).1.count(), 10);
    }

    /// A deployment holds lines for its own clients only, and a client's
    /// walk visits only the deployments that target it.
    #[test]
    fn a_column_holds_its_targeted_clients_only() {
        use crate::engine::SimTime;
        let initial = LiveAssignment::UNTARGETED;
        // Cohorts of 10 clients: d0 targets cohorts 0 and 1, d1 cohort 1,
        // d2 cohorts 3 and 0 (given out of order), d3 cohorts 0, 2 and 4..9.
        let cohort = |k: u32| (10 * k, 10 * k + 10);
        let targets = [
            Targets::new([cohort(0), cohort(1)]),
            Targets::new([cohort(1)]),
            Targets::new([cohort(3), cohort(0)]),
            Targets::new(
                [cohort(0), cohort(2)]
                    .into_iter()
                    .chain((4..10).map(cohort)),
            ),
        ];
        assert_eq!(targets[0].spans().len(), 1, "touching ranges merge");
        assert_eq!(targets[2].len(), 20);
        assert_eq!(targets[3].spans().len(), 3);
        let mut t = AssignmentTable::new(initial, targets.into_iter().map(|k| (k, false)));
        assert_eq!(
            t.columns.iter().map(|k| k.lines.len()).collect::<Vec<_>>(),
            [20, 10, 20, 80]
        );
        let walk = |t: &mut AssignmentTable, c: u32| -> Vec<u16> {
            t.of_client_mut(ClientId(c)).map(|(d, _)| d.0).collect()
        };
        assert_eq!(walk(&mut t, 0), [0, 2, 3]);
        assert_eq!(walk(&mut t, 15), [0, 1]);
        assert_eq!(walk(&mut t, 25), [3]);
        assert_eq!(walk(&mut t, 39), [2]);
        assert_eq!(walk(&mut t, 99), [3]);
        // Each client's lines are its own.
        for c in 0..100 {
            for (d, a) in t.of_client_mut(ClientId(c)) {
                a.due = SimTime(u64::from(c) * 10 + u64::from(d.0));
            }
        }
        for c in 0..100 {
            for d in 0..4 {
                let (c, d) = (ClientId(c), DeploymentId(d));
                let expected = match t.slot(d, c) {
                    Some(_) => SimTime(u64::from(c.0) * 10 + u64::from(d.0)),
                    None => initial.due,
                };
                assert_eq!(t.get(d, c).due, expected, "{c:?} {d:?}");
            }
        }
        // Beyond many spans, the search is a binary one.
        let many = Targets::new((0..50).map(|k| (4 * k, 4 * k + 2)));
        assert_eq!(many.slot(ClientId(9)), Some(5));
        assert_eq!(many.slot(ClientId(10)), None);
        assert_eq!(many.slot(ClientId(196)), Some(98));
        assert_eq!(many.slot(ClientId(1000)), None);
    }
}
