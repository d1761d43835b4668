//! The update catalog: each update's size, shares and times, which older
//! updates it supersedes, and the software update groups that hold them.

use super::checker::{Checker, Index};
use crate::engine::{SimDuration, SimTime};
use crate::estate::{UpdateId, UpdateSpec};
use crate::scenario::schema::{Classification, Scenario};

/// The updates, with their ids.
pub(super) fn updates<'a>(ck: &mut Checker, raw: &'a Scenario) -> (Index<'a>, Vec<UpdateSpec>) {
    let day = SimDuration::from_days(1);
    let update_index = ck.unique("updates", "id", raw.updates.iter().map(|u| u.id.as_str()));
    let mut updates = Vec::new();
    for (i, u) in raw.updates.iter().enumerate() {
        let path = format!("updates[{i}]");
        if u.size.0 == 0 || u.size.0 > 1_000_000_000_000 {
            ck.fail(
                format!("{path}.size"),
                format!("must be between 1B and 1TB, got {}", u.size),
            );
        }
        ck.probability(&format!("{path}.applicability"), u.applicability);
        ck.probability(
            &format!("{path}.restart_probability"),
            u.restart_probability,
        );
        ck.probability(
            &format!("{path}.failure_probability"),
            u.failure_probability,
        );
        ck.dist(&format!("{path}.install_time"), &u.install_time, day);
        let max_run_time = u
            .max_run_time
            .map_or(u.classification.default_max_run_time(), |d| d.0);
        ck.duration(
            &format!("{path}.max_run_time"),
            max_run_time,
            SimDuration::from_mins(1),
            day,
        );
        let release = u.release.as_ref().and_then(|t| {
            let ms = t.ms_since(&raw.start);
            (ms > 0).then_some(SimTime(ms as u64))
        });
        if let Some(express) = u.express_size
            && (express.0 == 0 || express.0 > u.size.0)
        {
            ck.fail(
                format!("{path}.express_size"),
                format!(
                    "must be between 1B and the update's size ({}), got {express}",
                    u.size
                ),
            );
        }
        updates.push(UpdateSpec {
            id: u.id.clone(),
            size_bytes: u.size.0,
            release,
            applicability: u.applicability,
            install_time: u.install_time.resolve(),
            max_run_time,
            restart_probability: u.restart_probability,
            failure_probability: u.failure_probability,
            express_bytes: u.express_size.map(|b| b.0),
            supersedes: Vec::new(),
        });
    }
    (update_index, updates)
}

/// Supersedence: a newer update supersedes older ones.
pub(super) fn supersedence(
    ck: &mut Checker,
    raw: &Scenario,
    update_index: &Index,
    updates: &mut [UpdateSpec],
) {
    for (i, u) in raw.updates.iter().enumerate() {
        let mut superseded: Vec<UpdateId> = Vec::new();
        for (j, id) in u.supersedes.iter().enumerate() {
            let path = format!("updates[{i}].supersedes[{j}]");
            let Some(k) = ck.lookup(&path, "update", id, update_index) else {
                continue;
            };
            let s = UpdateId(k as u16);
            if k == i {
                ck.fail(path, format!("update '{id}' cannot supersede itself"));
            } else if superseded.contains(&s) {
                ck.repeated(path, "update", id);
            } else if updates[k].release.unwrap_or(SimTime::ZERO)
                > updates[i].release.unwrap_or(SimTime::ZERO)
            {
                ck.fail(
                    path,
                    format!(
                        "update '{id}' is released after '{}', which cannot supersede it: an update supersedes older ones",
                        u.id
                    ),
                );
            } else if raw.updates[k].supersedes.contains(&u.id) {
                ck.fail(
                    path,
                    format!("updates '{}' and '{id}' supersede each other", u.id),
                );
            } else {
                superseded.push(s);
            }
        }
        if let Some(spec) = updates.get_mut(i) {
            spec.supersedes = superseded;
        }
    }
}

/// The software update groups, with their names: a deployment of one
/// deploys its updates.
pub(super) struct Groups<'a> {
    pub(super) names: Index<'a>,
    /// Each group's updates, in its order.
    pub(super) updates: Vec<Vec<UpdateId>>,
}

/// The software update groups, each of updates that are not feature
/// updates.
pub(super) fn groups<'a>(ck: &mut Checker, raw: &'a Scenario, update_index: &Index) -> Groups<'a> {
    let group_index = ck.unique(
        "update_groups",
        "name",
        raw.update_groups.iter().map(|g| g.name.as_str()),
    );
    let mut group_updates: Vec<Vec<UpdateId>> = Vec::new();
    for (k, g) in raw.update_groups.iter().enumerate() {
        let path = format!("update_groups[{k}]");
        if g.updates.is_empty() {
            ck.fail(format!("{path}.updates"), "must list at least one update");
        }
        let mut ups = Vec::new();
        ck.listed(
            &format!("{path}.updates"),
            "update",
            &g.updates,
            update_index,
            &mut ups,
            |ck, at, id, u| {
                if raw.updates[u].classification == Classification::FeatureUpgrade {
                    ck.fail(
                        at,
                        format!(
                            "update '{id}' is a feature update, which a software update group cannot hold; deploy it with `updates`"
                        ),
                    );
                }
                UpdateId(u as u16)
            },
        );
        group_updates.push(ups);
    }
    Groups {
        names: group_index,
        updates: group_updates,
    }
}
