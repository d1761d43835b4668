//! Automatic deployment rules: what each picks, when it runs, and the
//! deployments its runs fill, declared here without updates or times.

use std::collections::BTreeMap;

use super::MAX_RULE_GROUPS;
use super::checker::{Checker, Index};
use super::deployments::{DeploymentNames, targets};
use crate::engine::{SimDuration, SimTime};
use crate::estate::{CohortId, DeploymentId, DeploymentSpec, RuleSpec, UpdateId};
use crate::scenario::schema::{
    AutomaticDeploymentRule, Classification, ClientKind, Purpose, RuleGroup, RuleRun, Scenario,
};
use crate::scenario::units::clipped;

/// The rules; each run that finds updates fills the next of a rule's
/// deployments, which are added to `deployments`.
pub(super) fn rules(
    ck: &mut Checker,
    raw: &Scenario,
    cohorts: &Index,
    names: &DeploymentNames,
    first_scheduled: SimTime,
    deployments: &mut Vec<DeploymentSpec>,
) -> Vec<RuleSpec> {
    ck.unique(
        "automatic_deployment_rules",
        "name",
        raw.automatic_deployment_rules
            .iter()
            .map(|r| r.name.as_str()),
    );
    let mut rules: Vec<RuleSpec> = Vec::new();
    // Every name a rule may give a deployment, and the first rule to give it.
    let mut rule_names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in raw.automatic_deployment_rules.iter().enumerate() {
        let path = format!("automatic_deployment_rules[{i}]");
        let targets = criteria(ck, &path, r, cohorts);
        let candidates = candidates(ck, &path, r, raw);
        let (schedule, runs) = runs(ck, &path, r, raw, first_scheduled);
        let slots = match r.group {
            RuleGroup::NewGroup => runs,
            RuleGroup::ExistingGroup => runs.min(1),
        };
        if slots > MAX_RULE_GROUPS {
            ck.fail(
                format!("{path}.group"),
                format!(
                    "a rule that makes a new group each run may run at most {MAX_RULE_GROUPS} times in a run, and this one can run {runs} times; run it less often or use ExistingGroup"
                ),
            );
        }
        let mut rule = spec(r, raw, schedule, &candidates);
        let template = template(r, candidates, targets, rules.len() as u16);
        let mut collided = false;
        for k in 0..slots.min(MAX_RULE_GROUPS) {
            let name = match r.group {
                RuleGroup::NewGroup => format!("{} #{}", r.name, k + 1),
                RuleGroup::ExistingGroup => r.name.clone(),
            };
            if !collided {
                if let Some(other) = taken(&name, i, raw, names, &rule_names) {
                    collided = true;
                    ck.fail(
                        format!("{path}.name"),
                        format!(
                            "its deployment '{}' would take the name of {other}; rename the rule",
                            clipped(&name)
                        ),
                    );
                }
            }
            rule_names.entry(name.clone()).or_insert(i);
            rule.deployments
                .push(DeploymentId(deployments.len() as u16));
            deployments.push(DeploymentSpec {
                name,
                ..template.clone()
            });
        }
        rules.push(rule);
    }
    rules
}

/// A rule's targets and what it picks and when it deploys it: checked,
/// the cohorts it targets.
fn criteria(
    ck: &mut Checker,
    path: &str,
    r: &AutomaticDeploymentRule,
    cohorts: &Index,
) -> Vec<CohortId> {
    let year = SimDuration::from_days(365);
    if r.targets.is_empty() {
        ck.fail(format!("{path}.targets"), "must list at least one cohort");
    }
    let targets = targets(ck, path, &r.targets, cohorts);
    for (j, class) in r.classifications.iter().enumerate() {
        if *class == Classification::FeatureUpgrade {
            ck.fail(
                format!("{path}.classifications[{j}]"),
                "a software update group cannot hold a feature update; deploy it with a deployment's `updates`",
            );
        }
    }
    if let Some(within) = &r.released_within {
        ck.duration(
            &format!("{path}.released_within"),
            within.0,
            SimDuration::from_hours(1),
            year,
        );
    }
    ck.duration(
        &format!("{path}.available_after"),
        r.available_after.0,
        SimDuration::ZERO,
        year,
    );
    ck.duration(
        &format!("{path}.deadline_after"),
        r.deadline_after.0,
        SimDuration::ZERO,
        year,
    );
    targets
}

/// Every update a rule could ever pick: of its classifications, never a
/// feature update.
fn candidates(
    ck: &mut Checker,
    path: &str,
    r: &AutomaticDeploymentRule,
    raw: &Scenario,
) -> Vec<UpdateId> {
    let candidates: Vec<UpdateId> = (raw.updates.iter().enumerate())
        .filter(|(_, u)| {
            u.classification != Classification::FeatureUpgrade
                && (r.classifications.is_empty() || r.classifications.contains(&u.classification))
        })
        .map(|(k, _)| UpdateId(k as u16))
        .collect();
    if candidates.is_empty() {
        ck.fail(
            format!("{path}.classifications"),
            "no update in the catalog has these classifications, so the rule can never deploy anything",
        );
    }
    candidates
}

/// A rule's runs: at the end of each successful sync (at most one per
/// sync trigger), or on its schedule (then its times); and how many it may
/// make in the run.
fn runs(
    ck: &mut Checker,
    path: &str,
    r: &AutomaticDeploymentRule,
    raw: &Scenario,
    first_scheduled: SimTime,
) -> (Option<Vec<SimTime>>, usize) {
    let year = SimDuration::from_days(365);
    let end = raw.duration.0;
    // How many times `every` fits from `first` to the end.
    let fits = |first: SimTime, every: SimDuration| {
        let span = end.as_ms().saturating_sub(first.as_ms());
        span.div_ceil(every.as_ms().max(1)) as usize
    };
    let schedule = match &r.run {
        RuleRun::AfterSync => None,
        RuleRun::Schedule { first, every } => {
            let first = ck.instant(&format!("{path}.run.first"), first, &raw.start);
            ck.duration(
                &format!("{path}.run.every"),
                every.0,
                SimDuration::from_hours(1),
                year,
            );
            let every = every.0.max(SimDuration::from_hours(1));
            Some(
                (0..fits(first, every) as u64)
                    .map(|k| first + SimDuration(k * every.as_ms()))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let runs = match &schedule {
        Some(times) => times.len(),
        // At most one a sync trigger.
        None => {
            let interval = raw.sync.schedule_interval.0.max(SimDuration::from_mins(1));
            fits(first_scheduled, interval) + raw.sync.manual.len()
        }
    };
    (schedule, runs)
}

/// What already has the name the deployment of rule `i` would take, if
/// anything: a deployment, a phase, or another rule's deployment.
fn taken(
    name: &str,
    i: usize,
    raw: &Scenario,
    names: &DeploymentNames,
    rule_names: &BTreeMap<String, usize>,
) -> Option<String> {
    let r = &raw.automatic_deployment_rules[i];
    if names.deployments.contains_key(name) || names.phases.contains_key(name) {
        Some("another deployment".to_string())
    } else {
        // Two rules of the same name are reported once, above.
        (rule_names.get(name))
            .filter(|&&j| j != i && raw.automatic_deployment_rules[j].name != r.name)
            .map(|j| {
                format!(
                    "a deployment of automatic_deployment_rules[{j}] ('{}')",
                    clipped(&raw.automatic_deployment_rules[*j].name)
                )
            })
    }
}

/// A rule, without its deployments yet: what it picks, when it runs and
/// when what it deploys is due.
fn spec(
    r: &AutomaticDeploymentRule,
    raw: &Scenario,
    schedule: Option<Vec<SimTime>>,
    candidates: &[UpdateId],
) -> RuleSpec {
    RuleSpec {
        name: r.name.clone(),
        schedule,
        released_within: r.released_within.as_ref().map(|w| w.0),
        released: candidates
            .iter()
            .map(|u| match &raw.updates[u.index()].release {
                Some(t) => t.ms_since(&raw.start),
                None => i64::MIN,
            })
            .collect(),
        superseded: r.superseded,
        existing_group: r.group == RuleGroup::ExistingGroup,
        available_after: r.available_after.0,
        deadline_after: match r.purpose {
            Purpose::Required => r.deadline_after.0,
            Purpose::Available => SimDuration::ZERO,
        },
        deployments: Vec::new(),
    }
}

/// What each deployment of rule number `rule` is, but its name: the
/// updates it may pick, its targets and its settings, with no times until
/// a run fills it.
fn template(
    r: &AutomaticDeploymentRule,
    candidates: Vec<UpdateId>,
    targets: Vec<CohortId>,
    rule: u16,
) -> DeploymentSpec {
    DeploymentSpec {
        name: String::new(),
        updates: candidates,
        targets,
        created: SimTime::MAX,
        available: SimTime::MAX,
        deadline: SimTime::MAX,
        phase: None,
        next_phase: None,
        rule: Some(rule),
        purpose: r.purpose.resolve(),
        honor_maintenance_windows: r.honor_maintenance_windows,
        restart_outside_windows: r.restart_outside_windows,
        suppress_restart_workstations: r.suppress_restart.contains(&ClientKind::Workstation),
        suppress_restart_servers: r.suppress_restart.contains(&ClientKind::Server),
        microsoft_update_fallback: r.microsoft_update_fallback,
        distribution_priority: r.distribution_priority,
        gradually_over: SimDuration::ZERO,
        suspensions: Vec::new(),
    }
}
