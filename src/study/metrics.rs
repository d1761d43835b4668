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
use crate::model::{ServerRole, listed_servers};
use crate::output::{DeploymentSummary, LocationDeployment, Summary, Thresholds, WanLinkSummary};

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
    /// Each WAN link, named by its location (as `summary.json`'s
    /// `locations` and a fault name it).
    Link,
    /// Each location's part of each deployment: the clients at the site
    /// (`(site)`, when `site`), then each branch location, by name; a
    /// column per location and deployment.
    Location {
        /// Whether the site's clients have a column too.
        site: bool,
    },
    /// Each deployment over every location, the site's clients included:
    /// the slowest of them. Only in a study with locations.
    Locations,
}

/// The name `summary.json` gives the clients at the site among the
/// locations.
pub const SITE: &str = "(site)";

/// Which entity a metric's value is read for in a run's summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entity {
    /// The deployment, the server (its place in `summary.json`'s
    /// `servers`), or 0.
    pub index: usize,
    /// For a location's or a link's metric, the location's place in
    /// `summary.json`'s `locations` (the site first); else 0.
    pub place: usize,
}

/// An estate's servers, named as `summary.json` names them, with their
/// roles, in the order of its `servers`: management points, update
/// points, distribution points, then each site's state system.
pub fn servers(estate: &Estate) -> Vec<(String, ServerRole)> {
    (listed_servers(estate).into_iter())
        .map(|s| (s.name, s.role))
        .collect()
}

/// An estate's locations (each with its WAN link), by name, in file
/// order.
pub fn locations(estate: &Estate) -> Vec<String> {
    estate.locations.iter().map(|l| l.name.clone()).collect()
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
    /// Its value in a run, for an entity of its scope; `None` if the run
    /// never reached it (a threshold not reached).
    pub value: fn(&Summary, Entity) -> Option<f64>,
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

/// Deployment `e.index`'s part in location `e.place` (`None`: it
/// targets none of the location's clients, or no run made it).
fn location_deployment(s: &Summary, e: Entity) -> Option<&LocationDeployment> {
    (s.locations.get(e.place)?.deployments.iter()).find(|d| d.index == e.index)
}

fn location_th(s: &Summary, e: Entity, reported: bool) -> Option<&Thresholds> {
    let d = location_deployment(s, e)?;
    Some(if reported {
        &d.hours_to_pct_reported
    } else {
        &d.hours_to_pct_true
    })
}

/// The slowest location's hours to a milestone of deployment `d`: the
/// most over the locations it targets, the site's clients included;
/// `None` if one of them never reached it.
fn slowest(
    s: &Summary,
    d: usize,
    reported: bool,
    pct: fn(&Thresholds) -> Option<f64>,
) -> Option<f64> {
    let mut most: Option<f64> = None;
    for place in 0..s.locations.len() {
        if let Some(t) = location_th(s, Entity { index: d, place }, reported) {
            let h = pct(t)?;
            most = Some(most.map_or(h, |m| m.max(h)));
        }
    }
    most
}

/// The WAN link of location `e.place` (none for the site).
fn link(s: &Summary, e: Entity) -> Option<&WanLinkSummary> {
    s.locations.get(e.place)?.wan_link.as_ref()
}

/// A location's hours to a milestone: per location and deployment.
macro_rules! location_milestone {
    ($name:literal, $label:literal, $pct:ident, $reported:literal) => {
        Metric {
            name: $name,
            scope: Scope::Location { site: true },
            label: $label,
            table: None,
            chart: false,
            value: |s, e| location_th(s, e, $reported)?.$pct,
            most: HOURS,
            whole: false,
            optional: true,
        }
    };
}

/// The slowest location's hours to a milestone: per deployment.
macro_rules! slowest_milestone {
    ($name:literal, $label:literal, $table:expr, $pct:ident, $reported:literal) => {
        Metric {
            name: $name,
            scope: Scope::Locations,
            label: $label,
            table: $table,
            chart: true,
            value: |s, e| slowest(s, e.index, $reported, |t| t.$pct),
            most: HOURS,
            whole: false,
            optional: true,
        }
    };
}

/// Every metric, in column order.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "hours_to_50_true",
        scope: Scope::Deployment,
        label: "hours from creation to 50 % compliant (true)",
        table: Some("50% true"),
        chart: true,
        value: |s, Entity { index: i, .. }| th(s, i, false)?.pct_50,
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
        value: |s, Entity { index: i, .. }| th(s, i, false)?.pct_80,
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
        value: |s, Entity { index: i, .. }| th(s, i, false)?.pct_95,
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
        value: |s, Entity { index: i, .. }| th(s, i, false)?.pct_99,
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
        value: |s, Entity { index: i, .. }| th(s, i, true)?.pct_50,
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
        value: |s, Entity { index: i, .. }| th(s, i, true)?.pct_80,
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
        value: |s, Entity { index: i, .. }| th(s, i, true)?.pct_95,
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
        value: |s, Entity { index: i, .. }| th(s, i, true)?.pct_99,
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
        value: |s, Entity { index: i, .. }| Some(deployment(s, i)?.compliant_pct_true),
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
        value: |s, Entity { index: i, .. }| Some(deployment(s, i)?.compliant_pct_reported),
        most: 100.0,
        whole: false,
        optional: false,
    },
    slowest_milestone!(
        "slowest_location_hours_to_50_true",
        "hours from creation until every location is 50 % compliant (true)",
        None,
        pct_50,
        false
    ),
    slowest_milestone!(
        "slowest_location_hours_to_80_true",
        "hours from creation until every location is 80 % compliant (true)",
        None,
        pct_80,
        false
    ),
    slowest_milestone!(
        "slowest_location_hours_to_95_true",
        "hours from creation until every location is 95 % compliant (true)",
        Some("slowest location 95% true"),
        pct_95,
        false
    ),
    slowest_milestone!(
        "slowest_location_hours_to_99_true",
        "hours from creation until every location is 99 % compliant (true)",
        None,
        pct_99,
        false
    ),
    slowest_milestone!(
        "slowest_location_hours_to_50_reported",
        "hours from creation until every location is 50 % compliant (reported)",
        None,
        pct_50,
        true
    ),
    slowest_milestone!(
        "slowest_location_hours_to_80_reported",
        "hours from creation until every location is 80 % compliant (reported)",
        None,
        pct_80,
        true
    ),
    slowest_milestone!(
        "slowest_location_hours_to_95_reported",
        "hours from creation until every location is 95 % compliant (reported)",
        Some("slowest location 95% reported"),
        pct_95,
        true
    ),
    slowest_milestone!(
        "slowest_location_hours_to_99_reported",
        "hours from creation until every location is 99 % compliant (reported)",
        None,
        pct_99,
        true
    ),
    Metric {
        name: "peak_queue",
        scope: Scope::Server,
        label: "most requests waiting at once",
        table: None,
        chart: false,
        value: |s, Entity { index: i, .. }| Some(f64::from(s.servers[i].peak_queue)),
        most: COUNT,
        whole: true,
        optional: false,
    },
    Metric {
        name: "arrived",
        scope: Scope::Server,
        label: "requests that arrived (served, rejected or failed)",
        table: None,
        chart: false,
        value: |s, Entity { index: i, .. }| Some(s.servers[i].arrived as f64),
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
        value: |s, Entity { index: i, .. }| Some(s.servers[i].rejected as f64),
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
        value: |s, Entity { index: i, .. }| s.servers[i].queue_wait_s.p95,
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
        value: |s, Entity { index: i, .. }| Some(s.servers[i].hours_busy),
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
        value: |s, Entity { index: i, .. }| Some(s.servers[i].bytes_served as f64),
        most: COUNT,
        whole: true,
        optional: false,
    },
    Metric {
        name: "link_peak_utilization_pct",
        scope: Scope::Link,
        label: "WAN link's peak utilization, % of its bandwidth",
        table: None,
        chart: false,
        value: |s, e| Some(link(s, e)?.peak_utilization_pct),
        most: 100.0,
        whole: false,
        optional: false,
    },
    Metric {
        name: "link_hours_busy",
        scope: Scope::Link,
        label: "hours the WAN link is at or above the busy threshold",
        table: None,
        chart: false,
        value: |s, e| Some(link(s, e)?.hours_busy),
        most: HOURS,
        whole: false,
        optional: false,
    },
    Metric {
        name: "link_bytes_carried",
        scope: Scope::Link,
        label: "bytes across the WAN link (downloads, content copied to its DPs)",
        table: None,
        chart: false,
        value: |s, e| Some(link(s, e)?.bytes_carried as f64),
        most: COUNT,
        whole: true,
        optional: false,
    },
    location_milestone!(
        "location_hours_to_50_true",
        "hours from creation to 50 % of the location compliant (true)",
        pct_50,
        false
    ),
    location_milestone!(
        "location_hours_to_80_true",
        "hours from creation to 80 % of the location compliant (true)",
        pct_80,
        false
    ),
    location_milestone!(
        "location_hours_to_95_true",
        "hours from creation to 95 % of the location compliant (true)",
        pct_95,
        false
    ),
    location_milestone!(
        "location_hours_to_99_true",
        "hours from creation to 99 % of the location compliant (true)",
        pct_99,
        false
    ),
    location_milestone!(
        "location_hours_to_50_reported",
        "hours from creation to 50 % of the location compliant (reported)",
        pct_50,
        true
    ),
    location_milestone!(
        "location_hours_to_80_reported",
        "hours from creation to 80 % of the location compliant (reported)",
        pct_80,
        true
    ),
    location_milestone!(
        "location_hours_to_95_reported",
        "hours from creation to 95 % of the location compliant (reported)",
        pct_95,
        true
    ),
    location_milestone!(
        "location_hours_to_99_reported",
        "hours from creation to 99 % of the location compliant (reported)",
        pct_99,
        true
    ),
    Metric {
        name: "location_hours_to_content_on_dps",
        scope: Scope::Location { site: false },
        label: "hours from creation until the content is on every DP of the location its clients use",
        table: None,
        chart: false,
        value: |s, e| location_deployment(s, e)?.hours_to_content_on_dps?,
        most: HOURS,
        whole: false,
        optional: true,
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
    /// has more than one entity, e.g. `hours_to_95_true[pilot]`; a link's
    /// and a location's always carry their location's name, and a
    /// location's its deployment's too when there are several:
    /// `location_hours_to_95_true[york][pilot]`.
    pub name: String,
    /// Index into [`METRICS`].
    pub metric: usize,
    /// Index of the entity in its scope (for a location's metric, the
    /// deployment).
    pub entity: usize,
    /// For a link's or a location's metric, the location's name (`(site)`
    /// for the clients at the site).
    pub location: Option<String>,
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
/// too, empty at the points without them); the link and location metrics
/// one for each of `locations` (likewise every location of every point),
/// the site's clients first where the metric has them. Without locations
/// there are no link or location columns.
pub fn columns(estate: &Estate, servers: &[String], locations: &[String]) -> Vec<Column> {
    let deployments: Vec<&str> = estate.deployments.iter().map(|d| d.name.as_str()).collect();
    let several = deployments.len() > 1;
    // `[deployment]` when there are several.
    let of_deployment = |d: usize| {
        if several {
            format!("[{}]", deployments[d])
        } else {
            String::new()
        }
    };
    let mut cols = Vec::new();
    for (m, metric) in METRICS.iter().enumerate() {
        let mut push = |suffix: String, entity: usize, location: Option<&str>| {
            cols.push(Column {
                name: format!("{}{suffix}", metric.name),
                metric: m,
                entity,
                location: location.map(String::from),
            })
        };
        match metric.scope {
            Scope::Run => push(String::new(), 0, None),
            Scope::Deployment => {
                (0..deployments.len()).for_each(|d| push(of_deployment(d), d, None))
            }
            Scope::Server => {
                for (i, name) in servers.iter().enumerate() {
                    let suffix = if servers.len() > 1 {
                        format!("[{name}]")
                    } else {
                        String::new()
                    };
                    push(suffix, i, None);
                }
            }
            Scope::Link => {
                for (i, name) in locations.iter().enumerate() {
                    push(format!("[{name}]"), i, Some(name));
                }
            }
            Scope::Location { site } => {
                let site = (site && !locations.is_empty()).then_some(SITE);
                for place in site.into_iter().chain(locations.iter().map(String::as_str)) {
                    for d in 0..deployments.len() {
                        push(format!("[{place}]{}", of_deployment(d)), d, Some(place));
                    }
                }
            }
            Scope::Locations if !locations.is_empty() => {
                (0..deployments.len()).for_each(|d| push(of_deployment(d), d, None))
            }
            Scope::Locations => {}
        }
    }
    cols
}

/// The value of each column in a run (a server, link or location the run
/// does not have: `None`).
pub fn measure(columns: &[Column], summary: &Summary) -> Vec<Option<f64>> {
    columns
        .iter()
        .map(|c| {
            let metric = c.metric();
            let entity = match (metric.scope, c.entity_name(), &c.location) {
                (Scope::Server, Some(name), _) => Entity {
                    index: (summary.servers.iter()).position(|s| s.name == name)?,
                    place: 0,
                },
                (Scope::Link | Scope::Location { .. }, _, Some(name)) => Entity {
                    index: c.entity,
                    place: (summary.locations.iter()).position(|l| l.name == *name)?,
                },
                _ => Entity {
                    index: c.entity,
                    place: 0,
                },
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
