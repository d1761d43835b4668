//! Raw scenario → checked [`Estate`], or every problem found, by field path.
//!
//! Owns the allowed ranges and the cross-references (cohort → server,
//! deployment → update and cohort). Reports all problems at once, each with
//! the field path, what was found and what is allowed.
//!
//! One submodule per part of the scenario; [`validate`] checks the parts in
//! a fixed order, which is the order the problems are reported in (tests
//! pin it), and hands each part only what it refers to.

mod checker;
mod cohorts;
mod deployments;
mod faults;
mod locations;
mod rules;
mod servers;
mod settings;
mod site;
mod updates;

use std::fmt;

use chrono::{Datelike, Timelike};
use sha2::{Digest, Sha256};

use super::schema::Scenario;
use super::units::{Timestamp, clipped};
use crate::engine::SimDuration;
use crate::estate::{
    CatalogSpec, DpSpec, Estate, FaultSpec, GatewaySpec, LocationSpec, MpSpec, PrimarySpec, Source,
    SupId, SupSpec, SyncSpec,
};
use checker::{Checker, Index};
pub(crate) use checker::{shown, unprintable};
use servers::ServerNames;

/// The most clients one run may hold (all cohorts together).
pub const MAX_CLIENTS: u64 = 10_000_000;
/// The most timeline rows one run may write per deployment.
pub const MAX_SAMPLES: u64 = 200_000;
/// The most bytes one deployment's updates may add up to (1 PB): a download
/// is counted in millibits in 64 bits.
pub const MAX_DEPLOYMENT_BYTES: u64 = 1_000_000_000_000_000;

/// Most deployments one automatic deployment rule that makes a new group
/// each run may make in a run (each takes a column of assignments).
pub const MAX_RULE_GROUPS: usize = 60;

/// The most servers of one role, of faults, and of queueing stations (the
/// management points, update points and primaries' state systems
/// together): the model numbers each with a 16-bit id.
pub const MAX_SERVERS: usize = u16::MAX as usize;

/// One thing wrong with a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: a field path such as `cohorts[1] (servers).count`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The path as the checks name it, without entry names
    /// (`cohorts[1].count`): what [`locate`](super::locate) follows.
    pub(crate) raw_path: String,
    /// Where in the scenario's file the value (or the entry or structure
    /// that lacks it) is: line and column, from 1; `None` when not known
    /// (an embedded or overridden scenario).
    pub at: Option<(usize, usize)>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The sites, their servers, the branch locations and the faults planned
/// on them, checked, with the names they are referred to by: what cohorts
/// are placed in.
struct Topology<'a> {
    names: ServerNames<'a>,
    location_names: Index<'a>,
    /// Whether the primaries are a central administration site's children
    /// (else the standalone site is the one primary).
    hierarchy: bool,
    primaries: Vec<PrimarySpec>,
    management_points: Vec<MpSpec>,
    update_points: Vec<SupSpec>,
    distribution_points: Vec<DpSpec>,
    locations: Vec<LocationSpec>,
    gateways: Vec<GatewaySpec>,
    faults: Vec<FaultSpec>,
}

/// Checks a parsed scenario and builds the estate, or lists every problem.
pub fn validate(raw: Scenario) -> Result<Estate, Vec<Problem>> {
    let mut ck = Checker::default();
    run(&mut ck, &raw);
    site::site(&mut ck, &raw.site);
    let sync = site::sync(&mut ck, &raw);
    let mut topology = topology(&mut ck, &raw, sync.catalog.as_ref());
    let mut settings = settings::scenario_wide(&mut ck, &raw.client_settings);
    let (cohort_names, cohorts) = cohorts::cohorts(&mut ck, &raw.cohorts, &topology, &mut settings);
    cohorts::placement(&mut ck, &cohorts, &mut topology);
    cohorts::limits(&mut ck, &raw.cohorts, &topology);
    let (update_names, mut updates) = updates::updates(&mut ck, &raw);
    updates::supersedence(&mut ck, &raw, &update_names, &mut updates);
    let deployment_names = deployments::names(&mut ck, &raw.deployments);
    let groups = updates::groups(&mut ck, &raw, &update_names);
    let mut deployments = deployments::deployments(
        &mut ck,
        &raw,
        &cohort_names,
        &update_names,
        &groups,
        &updates,
    );
    let rules = rules::rules(
        &mut ck,
        &raw,
        &cohort_names,
        &deployment_names,
        sync.first_scheduled,
        &mut deployments,
    );
    limits(&mut ck, &raw, deployments.len());
    if !ck.problems.is_empty() {
        return Err(named(ck.problems, &raw));
    }

    let text = resolved_text(&raw);
    // A standalone site syncs through its first SUP (WSyncMgr syncs the
    // site's first SUP, the others are its replicas); a CAS's SUP is not
    // one of the scenario's servers.
    let top_update_point =
        (!topology.hierarchy && !topology.update_points.is_empty()).then_some(SupId(0));
    Ok(Estate {
        hash: hash(&text),
        seed: raw.seed,
        duration: raw.duration.0,
        sample_interval: raw.sample_interval.0,
        busy_threshold_pct: raw.busy_threshold_pct,
        week_offset: week_offset(&raw.start),
        site: site::spec(&raw.site),
        sync: SyncSpec {
            top_update_point,
            ..sync
        },
        primaries: topology.primaries,
        hierarchy: topology.hierarchy,
        management_points: topology.management_points,
        update_points: topology.update_points,
        distribution_points: topology.distribution_points,
        locations: topology.locations,
        faults: topology.faults,
        settings,
        cohorts,
        updates,
        deployments,
        rules,
        gateways: topology.gateways,
        source: Source {
            description: raw.description.clone(),
            start: raw.start.0,
            site_code: raw.site.code.clone(),
            text,
            name: raw.name,
        },
    })
}

/// The servers and their sites, the branch locations and the faults, then
/// the site server's capacity; `catalog` scales the update points' scans.
fn topology<'a>(
    ck: &mut Checker,
    raw: &'a Scenario,
    catalog: Option<&CatalogSpec>,
) -> Topology<'a> {
    let names = servers::names(ck, &raw.servers);
    let gateways = servers::gateways(ck, &raw.servers, &names);
    let roles = servers::roles(ck, &raw.servers);
    let (hierarchy, primaries) = servers::primaries(ck, raw);
    let sites = servers::Sites::new(&primaries);
    let management_points = servers::management_points(ck, &raw.servers, &sites);
    let update_points = servers::update_points(ck, &raw.servers, &sites, catalog);
    let (location_names, locations) = locations::locations(ck, &raw.locations);
    let distribution_points =
        locations::distribution_points(ck, &raw.servers, &names, &sites, &location_names);
    servers::limits(ck, raw, primaries.len());
    let faults = faults::faults(ck, raw, &roles);
    site::site_server(ck, &raw.site);
    Topology {
        names,
        location_names,
        hierarchy,
        primaries,
        management_points,
        update_points,
        distribution_points,
        locations,
        gateways,
        faults,
    }
}

/// The run's own fields: its name, its span and how it is sampled.
fn run(ck: &mut Checker, raw: &Scenario) {
    let day = SimDuration::from_days(1);
    ck.name("name", &raw.name);
    // Every instant of the run is written as RFC 3339, whose years have
    // four digits: the longest run from the start must end by 9999.
    if raw.start.0.naive_utc().year() > 9997 {
        ck.fail(
            "start",
            format!(
                "{} is too late: the run must end before the year 10000; give a start before 9998",
                raw.start
            ),
        );
    }
    ck.duration(
        "duration",
        raw.duration.0,
        SimDuration::from_mins(1),
        SimDuration::from_days(366),
    );
    ck.duration(
        "sample_interval",
        raw.sample_interval.0,
        SimDuration::from_mins(1),
        day,
    );
    if raw.sample_interval.0.as_ms() > 0
        && raw.duration.0.as_ms() / raw.sample_interval.0.as_ms() > MAX_SAMPLES
    {
        ck.fail(
            "sample_interval",
            format!(
                "gives more than {MAX_SAMPLES} samples over the duration; use a longer interval"
            ),
        );
    }
    let busy = u8::try_from(raw.busy_threshold_pct);
    if !busy.is_ok_and(|pct| crate::scenario::BUSY_THRESHOLD_PCT.contains(&pct)) {
        ck.fail(
            "busy_threshold_pct",
            format!(
                "must be between 1 and 100 (a whole percent), got {}",
                raw.busy_threshold_pct
            ),
        );
    }
}

/// The sizes of the catalog and of the deployments, which the model
/// numbers with 16-bit ids and keeps per client.
fn limits(ck: &mut Checker, raw: &Scenario, deployments: usize) {
    if raw.updates.len() > 4096 {
        ck.fail("updates", "too many updates (at most 4096)");
    }
    if deployments > 1024 {
        ck.fail(
            "deployments",
            "too many deployments (at most 1024, counting each phase of a phased deployment)",
        );
    }
}

/// The problems with the entries of named lists named
/// (`cohorts[16] (servers).kind`).
fn named(mut problems: Vec<Problem>, raw: &Scenario) -> Vec<Problem> {
    if let Ok(tree) = serde_json::to_value(raw) {
        for p in &mut problems {
            p.path = named_path(&p.path, &tree);
        }
    }
    problems
}

/// The estate's short hash: the first 8 bytes of the SHA-256 of its
/// resolved text, in hex.
fn hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// How far into its local week (from Monday 00:00) the run starts.
fn week_offset(start: &Timestamp) -> SimDuration {
    let local = start.0.naive_local();
    SimDuration::from_ms(
        u64::from(local.weekday().num_days_from_monday()) * 86_400_000
            + u64::from(local.num_seconds_from_midnight()) * 1_000
            + u64::from(local.nanosecond() / 1_000_000),
    )
}

/// `path` (`cohorts[16].kind`) with each entry of a list that has a
/// `name` (or an update's `id`) named after its index: `cohorts[16]
/// (servers).kind`. `tree` is the scenario as JSON; what it does not hold
/// is left as it is.
fn named_path(path: &str, tree: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut here = Some(tree);
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let Some((index, after)) = after.split_once(']') else {
                out.push_str(rest);
                break;
            };
            out.push_str(&rest[..index.len() + 2]);
            here = index.parse::<usize>().ok().and_then(|i| here?.get(i));
            let name = here.and_then(|v| v.get("name").or_else(|| v.get("id")));
            if let Some(name) = name.and_then(serde_json::Value::as_str)
                && !name.is_empty()
                && !name.chars().any(unprintable)
            {
                out.push_str(&format!(" ({})", clipped(name)));
            }
            rest = after;
        } else {
            let field = rest.strip_prefix('.').unwrap_or(rest);
            let end = field.find(['.', '[']).unwrap_or(field.len());
            out.push_str(&rest[..rest.len() - field.len() + end]);
            here = here.and_then(|v| v.get(&field[..end]));
            rest = &field[end..];
        }
    }
    out
}

/// The resolved scenario's canonical text: what is hashed and written back.
pub fn resolved_text(scenario: &Scenario) -> String {
    let config = ron::ser::PrettyConfig::new()
        .struct_names(true)
        .extensions(ron::extensions::Extensions::IMPLICIT_SOME)
        .indentor("    ".to_string());
    ron::ser::to_string_pretty(scenario, config).expect("a scenario always serializes")
}

#[cfg(test)]
mod tests {
    use super::named_path;

    #[test]
    fn named_lists_give_their_entries_names() {
        let tree = serde_json::json!({
            "cohorts": [{"name": "desktops"}, {"name": "servers", "kind": "Server"}],
            "servers": {"update_points": [{"name": "sup01"}]},
            "updates": [{"id": "KB1"}],
            "deployments": [{"name": "d", "updates": ["KB1"],
                             "phases": [{"name": "pilot"}]}],
            "sync": {"manual": ["2026-11-10T19:00:00+01:00"]},
        });
        let cases = [
            ("cohorts[1].kind", "cohorts[1] (servers).kind"),
            ("cohorts[1]", "cohorts[1] (servers)"),
            (
                "servers.update_points[0].scan_slots",
                "servers.update_points[0] (sup01).scan_slots",
            ),
            ("updates[0].size", "updates[0] (KB1).size"),
            ("deployments[0].updates[0]", "deployments[0] (d).updates[0]"),
            (
                "deployments[0].phases[0].name",
                "deployments[0] (d).phases[0] (pilot).name",
            ),
            ("sync.manual[0]", "sync.manual[0]"),
            ("cohorts[7].count", "cohorts[7].count"),
            ("servers.management_points", "servers.management_points"),
            ("name", "name"),
            ("cohorts[].count", "cohorts[].count"),
        ];
        for (path, want) in cases {
            assert_eq!(named_path(path, &tree), want, "{path}");
        }
    }
}
