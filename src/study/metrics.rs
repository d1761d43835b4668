//! What a study measures in each run: the one list every metric column of
//! `runs.csv`, every row of `points.csv`, every chart and the printed table
//! come from.
//!
//! Owns [`METRICS`] and how it expands into columns for an estate (one per
//! deployment for the per-deployment metrics). Adding a metric, e.g. a
//! server's peak queue once servers are finite, is one entry in
//! [`METRICS`] (and, for a new kind of entity, one [`Scope`] variant).
//! Reads the run's [`Summary`]; never the live model.

use crate::estate::Estate;
use crate::output::{DeploymentSummary, Summary, Thresholds};

/// What a metric is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole run.
    Run,
    /// Each deployment, in scenario order.
    Deployment,
    /// Each server: management points, update points, distribution points,
    /// then each site's state system (the order of `summary.json`'s `servers`).
    Server,
}

impl Scope {
    /// The names of the entities of this scope (one unnamed entity for
    /// [`Scope::Run`]): the estate's deployments; for servers, `servers`.
    fn entities(self, estate: &Estate, servers: &[String]) -> Vec<Option<String>> {
        match self {
            Scope::Run => vec![None],
            Scope::Deployment => estate
                .deployments
                .iter()
                .map(|d| Some(d.name.clone()))
                .collect(),
            Scope::Server => servers.iter().cloned().map(Some).collect(),
        }
    }
}

/// An estate's servers, named as `summary.json` names them, with their
/// roles, in the order of its `servers`: management points, update
/// points, distribution points, then each site's state system.
pub fn servers(estate: &Estate) -> Vec<(String, &'static str)> {
    let named = |names: Vec<String>, role| names.into_iter().map(move |n| (n, role));
    named(
        (estate.management_points.iter())
            .map(|m| m.name.clone())
            .collect(),
        "mp",
    )
    .chain(named(
        (estate.update_points.iter())
            .map(|u| u.name.clone())
            .collect(),
        "sup",
    ))
    .chain(named(
        (estate.distribution_points.iter())
            .map(|d| d.name.clone())
            .collect(),
        "dp",
    ))
    .chain(named(
        (estate.primaries.iter())
            .map(|p| format!("{} state system", p.code))
            .collect(),
        "state_system",
    ))
    .collect()
}

/// One metric.
#[derive(Debug)]
pub struct Metric {
    /// Column name (with `[entity]` appended when a scope has several).
    pub name: &'static str,
    /// What it is measured on.
    pub scope: Scope,
    /// Axis label of its chart.
    pub label: &'static str,
    /// Header in the printed table, if it is shown there.
    pub table: Option<&'static str>,
    /// Whether it gets a chart.
    pub chart: bool,
    /// Its value in a run, for entity `i` of its scope; `None` if the run
    /// never reached it (a threshold not reached).
    pub value: fn(&Summary, usize) -> Option<f64>,
    /// The largest value a run can give (the least is 0): what a study
    /// file read back is held to.
    pub most: f64,
    /// Whether it is a count (requests, bytes, events): a whole number.
    pub whole: bool,
    /// Whether a run of an entity that has it may still give no value: a
    /// milestone not reached, a percentile of no requests.
    pub optional: bool,
}

/// Hours in the longest run a scenario allows (366 days).
const HOURS: f64 = 366.0 * 24.0;
/// A count or a byte total: beyond any run's, far below where a study's
/// statistics would overflow.
const COUNT: f64 = 1e18;

/// The scenario's deployment `i` in a run's summary (`None`: one an
/// automatic deployment rule could make and no run of it did).
fn deployment(s: &Summary, i: usize) -> Option<&DeploymentSummary> {
    s.deployments.iter().find(|d| d.index == i)
}

fn th(s: &Summary, i: usize, reported: bool) -> Option<&Thresholds> {
    let d = deployment(s, i)?;
    Some(if reported {
        &d.hours_to_pct_reported
    } else {
        &d.hours_to_pct_true
    })
}

/// Every metric, in column order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "hours_to_50_true",
        scope: Scope::Deployment,
        label: "hours from creation to 50 % compliant (true)",
        table: Some("50% true"),
        chart: true,
        value: |s, i| th(s, i, false)?.pct_50,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_80_true",
        scope: Scope::Deployment,
        label: "hours from creation to 80 % compliant (true)",
        table: None,
        chart: true,
        value: |s, i| th(s, i, false)?.pct_80,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_95_true",
        scope: Scope::Deployment,
        label: "hours from creation to 95 % compliant (true)",
        table: Some("95% true"),
        chart: true,
        value: |s, i| th(s, i, false)?.pct_95,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_99_true",
        scope: Scope::Deployment,
        label: "hours from creation to 99 % compliant (true)",
        table: None,
        chart: true,
        value: |s, i| th(s, i, false)?.pct_99,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_50_reported",
        scope: Scope::Deployment,
        label: "hours from creation to 50 % compliant (reported)",
        table: Some("50% reported"),
        chart: true,
        value: |s, i| th(s, i, true)?.pct_50,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_80_reported",
        scope: Scope::Deployment,
        label: "hours from creation to 80 % compliant (reported)",
        table: None,
        chart: true,
        value: |s, i| th(s, i, true)?.pct_80,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_95_reported",
        scope: Scope::Deployment,
        label: "hours from creation to 95 % compliant (reported)",
        table: Some("95% reported"),
        chart: true,
        value: |s, i| th(s, i, true)?.pct_95,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_to_99_reported",
        scope: Scope::Deployment,
        label: "hours from creation to 99 % compliant (reported)",
        table: None,
        chart: true,
        value: |s, i| th(s, i, true)?.pct_99,
        most: HOURS,
        whole: false,
        optional: true,
    },
    Metric {
        name: "compliant_pct_true",
        scope: Scope::Deployment,
        label: "compliant at the end, % (true)",
        table: None,
        chart: false,
        value: |s, i| Some(deployment(s, i)?.compliant_pct_true),
        most: 100.0,
        whole: false,
        optional: false,
    },
    Metric {
        name: "compliant_pct_reported",
        scope: Scope::Deployment,
        label: "compliant at the end, % (reported)",
        table: None,
        chart: false,
        value: |s, i| Some(deployment(s, i)?.compliant_pct_reported),
        most: 100.0,
        whole: false,
        optional: false,
    },
    Metric {
        name: "peak_queue",
        scope: Scope::Server,
        label: "most requests waiting at once",
        table: None,
        chart: false,
        value: |s, i| Some(f64::from(s.servers[i].peak_queue)),
        most: COUNT,
        whole: true,
        optional: false,
    },
    Metric {
        name: "rejected",
        scope: Scope::Server,
        label: "requests rejected (queue full, 503) or failed (down)",
        table: None,
        chart: false,
        value: |s, i| Some(s.servers[i].rejected as f64),
        most: COUNT,
        whole: true,
        optional: false,
    },
    Metric {
        name: "queue_wait_p95_s",
        scope: Scope::Server,
        label: "p95 queue wait, seconds",
        table: None,
        chart: false,
        value: |s, i| s.servers[i].queue_wait_s.p95,
        most: HOURS * 3600.0,
        whole: false,
        optional: true,
    },
    Metric {
        name: "hours_busy",
        scope: Scope::Server,
        label: "hours at or above the busy threshold",
        table: None,
        chart: false,
        value: |s, i| Some(s.servers[i].hours_busy),
        most: HOURS,
        whole: false,
        optional: false,
    },
    Metric {
        name: "bytes_served",
        scope: Scope::Server,
        label: "bytes served (a DP's downloads, an update point's scan metadata)",
        table: None,
        chart: false,
        value: |s, i| Some(s.servers[i].bytes_served as f64),
        most: COUNT,
        whole: true,
        optional: false,
    },
    Metric {
        name: "events",
        scope: Scope::Run,
        label: "events simulated",
        table: None,
        chart: false,
        value: |s, _| Some(s.events as f64),
        most: COUNT,
        whole: true,
        optional: false,
    },
];

/// The index in [`METRICS`] of the metric named `name`.
pub fn metric_index(name: &str) -> Option<usize> {
    METRICS.iter().position(|m| m.name == name)
}

/// One metric column: a metric on one entity of its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Header: the metric's name, with `[entity]` appended when the scope
    /// has more than one entity, e.g. `hours_to_95_true[pilot]`.
    pub name: String,
    /// Index into [`METRICS`].
    pub metric: usize,
    /// Index of the entity in its scope.
    pub entity: usize,
}

impl Column {
    /// The metric this column measures.
    pub fn metric(&self) -> &'static Metric {
        &METRICS[self.metric]
    }

    /// The name of the entity it measures, from its header (`None` for a
    /// scope of one entity).
    pub fn entity_name(&self) -> Option<&str> {
        (self
            .name
            .strip_prefix(self.metric().name)?
            .strip_prefix('[')?)
        .strip_suffix(']')
    }
}

/// The metric columns for an estate, in [`METRICS`] order, each metric's
/// entities in scenario order. The server metrics have a column for each
/// of `servers` (every server of every point of a study, by name: a point
/// with more distribution points than the scenario has columns for them
/// too, empty at the points without them).
pub fn columns(estate: &Estate, servers: &[String]) -> Vec<Column> {
    let mut cols = Vec::new();
    for (m, metric) in METRICS.iter().enumerate() {
        let entities = metric.scope.entities(estate, servers);
        let several = entities.len() > 1;
        for (entity, name) in entities.into_iter().enumerate() {
            cols.push(Column {
                name: match name {
                    Some(n) if several => format!("{}[{n}]", metric.name),
                    _ => metric.name.to_string(),
                },
                metric: m,
                entity,
            });
        }
    }
    cols
}

/// The value of each column in a run (a server the run does not have:
/// `None`).
pub fn measure(columns: &[Column], summary: &Summary) -> Vec<Option<f64>> {
    columns
        .iter()
        .map(|c| {
            let metric = c.metric();
            let entity = match (metric.scope, c.entity_name()) {
                (Scope::Server, Some(name)) => {
                    (summary.servers.iter()).position(|s| s.name == name)?
                }
                _ => c.entity,
            };
            (metric.value)(summary, entity)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_unique_and_found() {
        for (i, m) in METRICS.iter().enumerate() {
            assert!(METRICS[..i].iter().all(|o| o.name != m.name), "{}", m.name);
            assert_eq!(metric_index(m.name), Some(i));
        }
    }
}
