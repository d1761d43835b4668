//! Automatic deployment rules: after a sync, or on their schedule, each
//! picks the updates in the top-level site database that meet its criteria
//! and deploys them as a software update group.
//!
//! Owns a rule's run: which updates it picks, and the deployment it makes
//! (a new group each run) or refreshes (an existing group, whose updates
//! each run replaces). The deployments a rule can make are declared when
//! the scenario is read, without updates or times; a run fills the next.

use super::events::Event;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimTime};
use crate::estate::{Purpose, UpdateId};

impl World<'_> {
    /// The end of a successful sync: every rule that runs after a sync runs.
    pub(crate) fn rules_after_sync(&mut self, sched: &mut Scheduler<'_, Event>) {
        for r in 0..self.estate.rules.len() {
            if self.estate.rules[r].schedule.is_none() {
                self.rule_run(r, sched);
            }
        }
    }

    /// Schedules each scheduled rule's runs.
    pub(crate) fn schedule_rules(&self, sched: &mut Scheduler<'_, Event>) {
        for (r, rule) in self.estate.rules.iter().enumerate() {
            for &t in rule.schedule.iter().flatten() {
                sched.at_fixed(t, Event::RuleRun(r as u16));
            }
        }
    }

    /// Rule `r` runs now: it picks its updates and makes or refreshes its
    /// deployment.
    pub(crate) fn rule_run(&mut self, r: usize, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let estate = self.estate;
        let rule = &estate.rules[r];
        let picked = self.rule_picks(r, now);
        if picked.is_empty() {
            self.recorder.totals.rule_runs_empty += 1;
            self.recorder
                .trace(now, None, || TraceEvent::RuleFoundNothing {
                    rule: r as u64,
                });
            return;
        }
        // A new group: the next deployment not yet made; an existing
        // group: its one deployment.
        let next = if rule.existing_group {
            rule.deployments.first().copied()
        } else {
            (rule.deployments.iter().copied())
                .find(|&d| self.deployments.created(d) == SimTime::MAX)
        };
        let Some(d) = next else {
            // A rule has a deployment for each run it can make.
            debug_assert!(false, "rule {} ran out of deployments", rule.name);
            return;
        };
        let count = picked.len() as u64;
        let made = self.deployments.created(d) == SimTime::MAX;
        if !made && self.deployments.picked(d) == Some(&picked[..]) {
            return; // the group is as it was
        }
        self.recorder.trace(now, None, || TraceEvent::RuleDeployed {
            deployment: d,
            updates: count,
        });
        if made {
            let available = now + rule.available_after;
            let deadline = match estate.deployments[d.index()].purpose {
                Purpose::Required => available + rule.deadline_after,
                Purpose::Available => available,
            };
            (self.deployments).pick(d, picked, Some((now, available, deadline)));
            self.deployments.made(d, estate);
            self.recorder.totals.rule_deployments += 1;
            self.count_cells(d, now);
        } else {
            let old = self.deployments.picked(d).unwrap_or_default().to_vec();
            let added: Vec<UpdateId> = (picked.iter().copied())
                .filter(|u| !old.contains(u))
                .collect();
            self.deployments.pick(d, picked, None);
            // The package changed: DPs in branch locations get the added
            // updates, and so do clients.
            self.content_changed(d);
            self.content_replaced(d, &added);
            self.recorder.totals.rule_refreshes += 1;
            for c in estate.deployments[d.index()].clients(estate) {
                self.refresh_every(c, now);
            }
        }
        // Its content goes to the DPs (for a refreshed group, the updates
        // the package gains: the others are there), then it enters policy; clients
        // that knew the old group evaluate the new one.
        for site in 0..estate.primaries.len() {
            if let Some(delay) = self.content_delay(d, site) {
                let (have, ready) = self.content_plan(d, site, now, delay);
                sched.at_fixed(ready, Event::ContentReady(d, site as u16));
                if !estate.locations.is_empty() {
                    self.start_copies(d, site, have, sched);
                }
            }
        }
    }

    /// The updates rule `r` picks now: in the top-level site database, not
    /// expired, of its classifications, released within its window, and
    /// (unless it takes superseded updates) superseded by no update in the
    /// database. In catalog order.
    fn rule_picks(&self, r: usize, now: SimTime) -> Vec<UpdateId> {
        let estate = self.estate;
        let rule = &estate.rules[r];
        let Some(&first) = rule.deployments.first() else {
            return Vec::new();
        };
        let in_database = |u: UpdateId| self.sync.synced_by(u, now);
        let candidates = &estate.deployments[first.index()].updates;
        (candidates.iter().copied().zip(&rule.released))
            .filter(|&(u, _)| in_database(u) && !self.sync.expired(u))
            .filter(|&(_, &released)| {
                rule.released_within.is_none_or(|within| {
                    released.saturating_add(within.as_ms() as i64) >= now.as_ms() as i64
                })
            })
            .map(|(u, _)| u)
            .filter(|&u| {
                rule.superseded
                    || !(estate.updates.iter().enumerate()).any(|(v, spec)| {
                        spec.supersedes.contains(&u) && in_database(UpdateId(v as u16))
                    })
            })
            .collect()
    }
}
