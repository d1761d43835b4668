//! Phased deployments suspended and resumed by the administrator.
//!
//! Suspending a phased deployment stops further devices from running it,
//! and resuming it continues the rollout. Here a suspension disables the
//! policy of every phase that has begun: each primary publishes it again,
//! and a client that learns it at its next policy poll starts none of the
//! deployment's steps (evaluation, download, install) until it learns at a
//! later poll that it is enabled again; what is already running finishes.
//! No phase begins while the phased deployment is suspended: a begin that
//! falls due then (its wait after the previous phase's success, or by
//! hand) happens at the resume.

use super::compliance::Phase;
use super::events::Event;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::Scheduler;
use crate::estate::{ClientId, DeploymentId};

impl World<'_> {
    /// The administrator suspends the phased deployment whose first phase
    /// is `d`.
    pub(crate) fn suspend(&mut self, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        self.deployments.set_suspended(d, true);
        self.toggle_phases(d, true, sched);
    }

    /// The administrator resumes it: its phases' policy is enabled again,
    /// and a phase whose begin came while it was suspended begins now.
    pub(crate) fn resume(&mut self, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        self.deployments.set_suspended(d, false);
        self.toggle_phases(d, false, sched);
        let mut next = self.estate.deployments[d.index()].next_phase;
        while let Some(phase) = next {
            if self.deployments.begin_held(phase) {
                self.phase_begin(phase, sched);
            }
            next = self.estate.deployments[phase.index()].next_phase;
        }
    }

    /// Disables (or enables) the policy of each begun phase of the phased
    /// deployment `first` at every primary: at once at a standalone site;
    /// in a hierarchy, where the administrator acts at the CAS, at each
    /// primary after its replication delay, as a deployment reaches it.
    fn toggle_phases(
        &mut self,
        first: DeploymentId,
        disabled: bool,
        sched: &mut Scheduler<'_, Event>,
    ) {
        if !self.estate.hierarchy {
            self.toggle_site(first, 0, disabled, sched);
            return;
        }
        for site in 0..self.estate.primaries.len() {
            sched.at_fixed(
                sched.now() + self.estate.replication_delay(site),
                Event::PolicyToggle(first, site as u16, disabled),
            );
        }
    }

    /// Disables (or enables) the policy of each begun phase of the phased
    /// deployment `first` at primary `site`.
    pub(crate) fn toggle_site(
        &mut self,
        first: DeploymentId,
        site: usize,
        disabled: bool,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let mut republished = false;
        let mut phase = Some(first);
        while let Some(d) = phase {
            if self.deployments.created(d) <= now {
                let published = self.deployments.is_published_at(d, site);
                self.site.toggle(site, d, disabled, published);
                republished |= published;
            }
            phase = self.estate.deployments[d.index()].next_phase;
        }
        // Each client of the site, if it published anything again, is
        // behind.
        if republished {
            self.refresh_site_current(site);
        }
        self.policy_changed(sched);
    }

    /// The deployments client `c` knows to be disabled: the last change its
    /// policy brought for each.
    pub(crate) fn disabled_for(&self, c: ClientId) -> Vec<DeploymentId> {
        if !self.site.toggled() {
            return Vec::new();
        }
        let toggles = self.site.toggles(self.cohort(c).site);
        let known = self.clients.known_deployments(c);
        let mut disabled = Vec::new();
        for t in toggles.iter().take_while(|t| t.at < known) {
            disabled.retain(|&d| d != t.deployment);
            if t.disabled {
                disabled.push(t.deployment);
            }
        }
        disabled
    }

    /// The deployments client `c` knows and knows to be disabled.
    pub(crate) fn disabled_known(&self, c: ClientId) -> Vec<DeploymentId> {
        let mut disabled = self.disabled_for(c);
        disabled.retain(|&d| {
            !matches!(
                self.deployments.assignment(d, c).phase,
                Phase::Untargeted | Phase::Unaware
            )
        });
        disabled
    }

    /// Client `c`'s policy answer changed what it knows disabled (`was`
    /// before the answer): a deployment enabled again makes it take up the
    /// steps that came due while it was disabled.
    pub(crate) fn policy_toggled(
        &mut self,
        c: ClientId,
        was: &[DeploymentId],
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let is = self.disabled_known(c);
        for &d in is.iter().filter(|d| !was.contains(d)) {
            self.recorder
                .trace(now, Some(c), || TraceEvent::PolicyDisabled {
                    deployment: d,
                });
        }
        let mut enabled = false;
        for &d in was.iter().filter(|d| !is.contains(d)) {
            enabled = true;
            self.recorder
                .trace(now, Some(c), || TraceEvent::PolicyEnabled { deployment: d });
        }
        if enabled {
            sched.at_fixed(now, Event::Wake(c));
        }
    }
}
