//! Deployments: their names (a phase's among them), the updates they
//! deploy (listed, or a software update group's), the cohorts they target,
//! their times, and the phases and suspensions of a phased deployment.
//!
//! Does not own the software update groups (`updates`) nor the deployments
//! automatic deployment rules make (`rules`).

use std::collections::BTreeMap;

use super::MAX_DEPLOYMENT_BYTES;
use super::checker::{Checker, Index};
use super::updates::Groups;
use crate::engine::{SimDuration, SimTime};
use crate::estate::{
    CohortId, DeploymentId, DeploymentSpec, PhaseSpec, PhaseStart, UpdateId, UpdateSpec,
};
use crate::scenario::schema::{ClientKind, Deployment, PhaseBegin, Purpose, Scenario};
use crate::scenario::units::{Dur, Timestamp, clipped};

/// The deployments' names, and their phases': a phase is a deployment of
/// its own, so its name is unique among them all.
pub(super) struct DeploymentNames<'a> {
    pub(super) deployments: Index<'a>,
    /// Each phase's name and the phase that has it (`deployments[0].phases[1]`).
    pub(super) phases: BTreeMap<&'a str, String>,
}

/// The deployments' names and their phases'.
pub(super) fn names<'a>(ck: &mut Checker, raw: &'a [Deployment]) -> DeploymentNames<'a> {
    let deployment_index = ck.unique("deployments", "name", raw.iter().map(|d| d.name.as_str()));
    // A phase is a deployment of its own: its name is unique among them all.
    let mut phase_names: BTreeMap<&str, String> = BTreeMap::new();
    for (i, d) in raw.iter().enumerate() {
        for (j, phase) in d.phases.iter().enumerate() {
            let path = format!("deployments[{i}].phases[{j}].name");
            ck.name(&path, &phase.name);
            let taken = (deployment_index.get(phase.name.as_str()))
                .map(|k| format!("deployments[{k}]"))
                .or_else(|| phase_names.get(phase.name.as_str()).cloned());
            if let Some(first) = taken {
                ck.fail(
                    path.clone(),
                    format!(
                        "'{}' is already used by {first}; a phase is a deployment of its own and its name must be unique, rename one of them",
                        clipped(&phase.name)
                    ),
                );
            } else {
                phase_names.insert(&phase.name, path.trim_end_matches(".name").to_string());
            }
        }
    }
    DeploymentNames {
        deployments: deployment_index,
        phases: phase_names,
    }
}

/// What a deployment's references resolve against.
struct Refs<'r, 'a> {
    cohorts: &'r Index<'a>,
    updates: &'r Index<'a>,
    groups: &'r Groups<'a>,
    /// The updates, checked.
    specs: &'r [UpdateSpec],
}

/// The deployments, each phase of a phased one a deployment of its own
/// after the first.
pub(super) fn deployments(
    ck: &mut Checker,
    raw: &Scenario,
    cohorts: &Index,
    updates: &Index,
    groups: &Groups,
    specs: &[UpdateSpec],
) -> Vec<DeploymentSpec> {
    let refs = Refs {
        cohorts,
        updates,
        groups,
        specs,
    };
    let mut deployments: Vec<DeploymentSpec> = Vec::new();
    for (i, d) in raw.deployments.iter().enumerate() {
        let path = format!("deployments[{i}]");
        let first = deployment(ck, &path, d, raw, &refs);
        phases(ck, &path, d, first, raw, &refs, &mut deployments);
    }
    deployments
}

/// A deployment, or a phased deployment's first phase.
fn deployment(
    ck: &mut Checker,
    path: &str,
    d: &Deployment,
    raw: &Scenario,
    refs: &Refs,
) -> DeploymentSpec {
    if d.group.is_some() {
        if !d.updates.is_empty() {
            ck.fail(
                format!("{path}.group"),
                "give either `updates` or `group`, not both",
            );
        }
    } else if d.updates.is_empty() {
        ck.fail(format!("{path}.updates"), "must list at least one update");
    }
    if d.targets.is_empty() {
        ck.fail(format!("{path}.targets"), "must list at least one cohort");
    }

    let ups = contents(ck, path, d, refs);
    let targets = targets(ck, path, &d.targets, refs.cohorts);
    let (created, available, deadline) = times(ck, path, d, &ups, raw, refs.specs);
    if d.purpose == Purpose::Available && d.deadline.is_some() {
        ck.fail(
            format!("{path}.deadline"),
            "an Available deployment has no deadline; remove it or make the deployment Required",
        );
    }
    let first = DeploymentSpec {
        name: d.name.clone(),
        updates: ups,
        targets,
        created,
        available,
        deadline,
        purpose: d.purpose.resolve(),
        honor_maintenance_windows: d.honor_maintenance_windows,
        restart_outside_windows: d.restart_outside_windows,
        suppress_restart_workstations: d.suppress_restart.contains(&ClientKind::Workstation),
        suppress_restart_servers: d.suppress_restart.contains(&ClientKind::Server),
        microsoft_update_fallback: d.microsoft_update_fallback,
        distribution_priority: d.distribution_priority,
        gradually_over: gradually(ck, &format!("{path}.gradually_over"), d.gradually_over),
        suspensions: suspensions(ck, path, d, created, &raw.start),
        phase: None,
        next_phase: None,
        rule: None,
    };
    if d.phases.is_empty() && d.gradually_over.0 > SimDuration::ZERO {
        ck.fail(
            format!("{path}.gradually_over"),
            "only a phased deployment makes its software available gradually; add `phases`, or remove it",
        );
    }
    if d.phases.len() > 10 {
        ck.fail(
            format!("{path}.phases"),
            format!(
                "a phased deployment has at most 10 phases after the first, got {}",
                d.phases.len()
            ),
        );
    }
    first
}

/// The updates a deployment deploys: its group's, then those it lists.
fn contents(ck: &mut Checker, path: &str, d: &Deployment, refs: &Refs) -> Vec<UpdateId> {
    let mut ups: Vec<UpdateId> = Vec::new();
    if let Some(group) = &d.group {
        if let Some(k) = ck.lookup(
            &format!("{path}.group"),
            "update group",
            group,
            &refs.groups.names,
        ) {
            ups = refs.groups.updates[k].clone();
        }
    }
    ck.listed(
        &format!("{path}.updates"),
        "update",
        &d.updates,
        refs.updates,
        &mut ups,
        |_, _, _, u| UpdateId(u as u16),
    );
    // A client downloads a deployment's updates as one transfer, counted
    // in millibits in 64 bits (see `model::distribution_point`).
    let total: u64 = ups
        .iter()
        .filter_map(|u| refs.specs.get(u.index()).map(|x: &UpdateSpec| x.size_bytes))
        .sum();
    if total > MAX_DEPLOYMENT_BYTES {
        ck.fail(
            format!("{path}.updates"),
            format!("must add up to at most 1PB, got {total} bytes"),
        );
    }
    ups
}

/// The cohorts a deployment, a phase or a rule (at `path`) targets.
pub(super) fn targets(
    ck: &mut Checker,
    path: &str,
    names: &[String],
    cohorts: &Index,
) -> Vec<CohortId> {
    let mut targets = Vec::new();
    ck.listed(
        &format!("{path}.targets"),
        "cohort",
        names,
        cohorts,
        &mut targets,
        |_, _, _, c| CohortId(c as u16),
    );
    targets
}

/// When a deployment is created, available and due: in that order, and
/// not before its updates are released.
fn times(
    ck: &mut Checker,
    path: &str,
    d: &Deployment,
    ups: &[UpdateId],
    raw: &Scenario,
    updates: &[UpdateSpec],
) -> (SimTime, SimTime, SimTime) {
    let problems_before = ck.problems.len();
    let created = ck.instant(&format!("{path}.created"), &d.created, &raw.start);
    let created_ok = ck.problems.len() == problems_before;
    let available = match &d.available {
        Some(t) => ck.instant(&format!("{path}.available"), t, &raw.start),
        None => created,
    };
    if available < created {
        ck.fail(format!("{path}.available"), "must not be before created");
    }
    let deadline = match &d.deadline {
        Some(t) => {
            let ms = t.ms_since(&raw.start);
            if ms < 0 {
                SimTime::ZERO
            } else {
                SimTime(ms as u64)
            }
        }
        None => available,
    };
    if deadline < available {
        ck.fail(
            format!("{path}.deadline"),
            format!(
                "{} is before the available time {}; a deadline must be at or after it",
                d.deadline
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                d.available.as_ref().unwrap_or(&d.created)
            ),
        );
    }
    // Its updates, listed or its group's.
    for (j, u) in ups.iter().map(|u| u.index()).enumerate() {
        if let Some(release) = updates.get(u).and_then(|x| x.release)
            && created_ok
            && release > created
        {
            ck.fail(
                match &d.group {
                    Some(_) => format!("{path}.group"),
                    None => format!("{path}.updates[{j}]"),
                },
                format!(
                    "update '{}' is released at {} after the deployment is created at {}; create the deployment after the release, or release the update earlier",
                    raw.updates[u].id,
                    raw.updates[u].release.as_ref().map(ToString::to_string).unwrap_or_default(),
                    d.created
                ),
            );
        }
    }

    (created, available, deadline)
}

/// A phased deployment's phases after the first, each a deployment of its
/// own that the one before it leads to; `first` is pushed first.
fn phases(
    ck: &mut Checker,
    path: &str,
    d: &Deployment,
    first: DeploymentSpec,
    raw: &Scenario,
    refs: &Refs,
    deployments: &mut Vec<DeploymentSpec>,
) {
    let created = first.created;
    let mut previous = deployments.len();
    let first_id = DeploymentId(previous as u16);
    deployments.push(first.clone());
    for (j, phase) in d.phases.iter().enumerate() {
        let path = format!("{path}.phases[{j}]");
        if phase.targets.is_empty() {
            ck.fail(format!("{path}.targets"), "must list at least one cohort");
        }
        let targets = targets(ck, &path, &phase.targets, refs.cohorts);
        if !(1..=100).contains(&phase.success_percent) {
            ck.fail(
                format!("{path}.success_percent"),
                format!(
                    "must be a whole percent between 1 and 100, got {}",
                    phase.success_percent
                ),
            );
        }
        let year = SimDuration::from_days(365);
        let begin = begin(ck, &path, &phase.begin, d, created, &raw.start);
        ck.duration(
            &format!("{path}.deadline_after"),
            phase.deadline_after.0,
            SimDuration::ZERO,
            year,
        );
        if let Some(n) = phase.success_devices {
            let clients: u32 = (deployments[previous].targets.iter())
                .map(|k| raw.cohorts.get(k.index()).map_or(0, |c| c.count))
                .sum();
            if !(1..=clients.max(1)).contains(&n) {
                ck.fail(
                    format!("{path}.success_devices"),
                    format!(
                        "must be from 1 to {clients} (the clients the phase before it targets), got {n}"
                    ),
                );
            }
        }
        let id = DeploymentId(deployments.len() as u16);
        deployments[previous].next_phase = Some(id);
        let before = DeploymentId(previous as u16);
        previous = id.index();
        deployments.push(DeploymentSpec {
            name: phase.name.clone(),
            targets,
            created: SimTime::MAX,
            available: SimTime::MAX,
            deadline: SimTime::MAX,
            phase: Some(PhaseSpec {
                number: j as u32 + 2,
                previous: before,
                first: first_id,
                content_from: created,
                begin,
                success_percent: phase.success_percent,
                success_devices: phase.success_devices,
                deadline_after: phase.deadline_after.0,
            }),
            gradually_over: gradually(ck, &format!("{path}.gradually_over"), phase.gradually_over),
            suspensions: Vec::new(),
            ..first.clone()
        });
    }
}

/// When a phase begins: a wait after the phase before it succeeds, or an
/// instant at or after the phased deployment is created.
fn begin(
    ck: &mut Checker,
    path: &str,
    begin: &PhaseBegin,
    d: &Deployment,
    created: SimTime,
    start: &Timestamp,
) -> PhaseStart {
    let year = SimDuration::from_days(365);
    match begin {
        PhaseBegin::AfterSuccess(wait) => {
            ck.duration(&format!("{path}.begin"), wait.0, SimDuration::ZERO, year);
            PhaseStart::AfterSuccess(wait.0)
        }
        PhaseBegin::Manual(t) => {
            let at = ck.instant(&format!("{path}.begin"), t, start);
            if at < created {
                ck.fail(
                        format!("{path}.begin"),
                        format!(
                            "{t} is before the phased deployment is created ({}); a phase begins at or after it",
                            d.created
                        ),
                    );
            }
            PhaseStart::Manual(at)
        }
    }
}

/// A phased deployment's suspensions: each at or after its creation, each
/// resume after its suspension, each suspension after the resume before
/// it, and only the last one left suspended to the end.
fn suspensions(
    ck: &mut Checker,
    path: &str,
    d: &Deployment,
    created: SimTime,
    start: &Timestamp,
) -> Vec<(SimTime, SimTime)> {
    if d.suspensions.is_empty() {
        return Vec::new();
    }
    if d.phases.is_empty() {
        ck.fail(
            format!("{path}.suspensions"),
            "only a phased deployment is suspended and resumed; add `phases`, or remove it",
        );
    }
    let mut list = Vec::with_capacity(d.suspensions.len());
    let mut after = created;
    for (i, s) in d.suspensions.iter().enumerate() {
        let path = format!("{path}.suspensions[{i}]");
        let at = ck.instant(&format!("{path}.at"), &s.at, start);
        if at < after {
            let what = if i == 0 {
                format!("the phased deployment is created ({})", d.created)
            } else {
                "the resume before it".to_string()
            };
            ck.fail(
                format!("{path}.at"),
                format!("{} is before {what}; a suspension comes after it", s.at),
            );
        }
        let resume = match &s.resume {
            Some(t) => {
                let resume = ck.instant(&format!("{path}.resume"), t, start);
                if resume <= at {
                    ck.fail(
                        format!("{path}.resume"),
                        format!(
                            "{t} is not after the suspension ({}); a resume comes after it",
                            s.at
                        ),
                    );
                }
                resume
            }
            None if i + 1 < d.suspensions.len() => {
                ck.fail(
                    format!("{path}.resume"),
                    "only the last suspension may last to the end; give this one a resume",
                );
                SimTime::MAX
            }
            None => SimTime::MAX,
        };
        after = resume;
        list.push((at, resume));
    }
    list
}

/// A phase's "Gradually make this software available over this period of
/// time", checked: at most 30 days, as Microsoft advises.
fn gradually(ck: &mut Checker, path: &str, over: Dur) -> SimDuration {
    ck.duration(path, over.0, SimDuration::ZERO, SimDuration::from_days(30));
    over.0
}
