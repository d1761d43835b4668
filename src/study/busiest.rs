//! The busiest server of each role at each point: in each run, the most
//! hours at or above the busy threshold and the longest p95 queue wait
//! over the role's servers, then their mean and 95 % interval over the
//! point's runs. A sweep over a server count ("how many DPs?") is read
//! here: its per-server columns name servers that only some points have,
//! and the load of the busiest one is what the count changes.
//!
//! Owns the derivation only; the numbers come from `runs.csv`'s server
//! columns, and the roles from rebuilding each point's scenario.

use super::{Estimate, Study, estimate, metrics};
use crate::model::ServerRole;
use crate::scenario;

/// The roles in `summary.json`'s order, with how a table names them.
pub(super) const ROLES: [(ServerRole, &str); 4] = [
    (ServerRole::ManagementPoint, "MP"),
    (ServerRole::UpdatePoint, "SUP"),
    (ServerRole::DistributionPoint, "DP"),
    (ServerRole::StateSystem, "state system"),
];

/// One role's busiest server, by point.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleLoad {
    /// The role as tables name it: "MP", "SUP", "DP", "state system".
    pub label: &'static str,
    /// The role.
    pub role: ServerRole,
    /// Per point: hours at or above the busy threshold of the run's
    /// busiest server of the role.
    pub hours_busy: Vec<Estimate>,
    /// Per point: the longest p95 queue wait among the role's servers,
    /// in minutes (0 for a server no request waited at).
    pub wait_p95_min: Vec<Estimate>,
}

/// Every role some point has, in `summary.json`'s order; empty when the
/// study's scenario cannot be rebuilt (a hand-edited `scenario.ron`).
pub fn role_loads(study: &Study) -> Vec<RoleLoad> {
    let Some(servers) = point_servers(study) else {
        return Vec::new();
    };
    let columns = study.columns();
    let of = |metric: &str| -> Vec<(usize, &str)> {
        (columns.iter().enumerate())
            .filter(|(_, c)| c.metric().name == metric)
            .filter_map(|(i, c)| Some((i, c.entity_name()?)))
            .collect()
    };
    let (busy, waits) = (of("hours_busy"), of("queue_wait_p95_s"));
    let points = study.manifest.points.len();
    let mut out = Vec::new();
    for (role, label) in ROLES {
        if !servers.iter().flatten().any(|(_, r)| *r == role) {
            continue;
        }
        // Per run, the most over the role's servers at its point.
        let most = |cols: &[(usize, &str)], run: &super::RunRow, scale: f64| -> Option<f64> {
            let here = &servers[run.point];
            (cols.iter())
                .filter(|(_, name)| here.iter().any(|(n, r)| n == name && *r == role))
                .map(|&(c, _)| run.values[c].unwrap_or(0.0) / scale)
                .reduce(f64::max)
        };
        let by_point = |cols: &[(usize, &str)], scale: f64| -> Vec<Estimate> {
            (0..points)
                .map(|p| {
                    let runs = study.runs.iter().filter(|r| r.point == p);
                    estimate(runs.map(|r| most(cols, r, scale)))
                })
                .collect()
        };
        out.push(RoleLoad {
            label,
            role,
            hours_busy: by_point(&busy, 1.0),
            wait_p95_min: by_point(&waits, 60.0),
        });
    }
    out
}

/// The roles the grid sweeps a field of (`servers.distribution_points.count`
/// sweeps the DPs): the ones the printed table shows.
pub fn swept_roles(study: &Study) -> Vec<ServerRole> {
    let lists = [
        ("servers.management_points", ServerRole::ManagementPoint),
        ("servers.update_points", ServerRole::UpdatePoint),
        ("servers.distribution_points", ServerRole::DistributionPoint),
        ("site.state_system", ServerRole::StateSystem),
    ];
    (lists.iter())
        .filter(|(prefix, _)| {
            study
                .manifest
                .grid
                .iter()
                .any(|p| p.path.starts_with(prefix))
        })
        .map(|(_, role)| *role)
        .collect()
}

/// Each point's servers with their roles, from its rebuilt scenario.
fn point_servers(study: &Study) -> Option<Vec<Vec<(String, ServerRole)>>> {
    let base = scenario::parse(&study.scenario_ron, "scenario.ron").ok()?;
    let m = &study.manifest;
    (m.points.iter())
        .map(|point| {
            let sets: Vec<(&str, &str)> = (m.grid.iter())
                .zip(&point.values)
                .map(|(g, v)| (g.path.as_str(), v.as_str()))
                .collect();
            let raw = super::apply(&base, &sets).ok()?;
            let estate = scenario::build(raw, "scenario.ron").ok()?;
            Some(metrics::servers(&estate))
        })
        .collect()
}
