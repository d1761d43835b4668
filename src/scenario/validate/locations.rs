//! Branch locations with their WAN links, and the distribution points at
//! the site or behind those links: their capacity, boundary groups,
//! prestaged content, copy schedules and rate limits, and the sources of
//! pull-distribution points.

use super::MAX_SERVERS;
use super::checker::{Checker, Index};
use super::servers::{ServerNames, Sites};
use crate::engine::SimDuration;
use crate::estate::{CopyPlan, DpId, DpSpec, LocationId, LocationSpec};
use crate::scenario::schema::{
    Availability, DistributionPoint, DistributionPriority, Location, RateLimit, Servers,
};

/// The branch locations and their WAN links, with their names (what
/// distribution points and cohorts name).
pub(super) fn locations<'a>(
    ck: &mut Checker,
    raw: &'a [Location],
) -> (Index<'a>, Vec<LocationSpec>) {
    let location_names = ck.unique("locations", "name", raw.iter().map(|l| l.name.as_str()));
    let mut locations = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let path = format!("locations[{i}].wan_link");
        let bps = l.wan_link.bandwidth.0;
        if !(1_000..=100_000_000_000).contains(&bps) {
            ck.fail(
                format!("{path}.bandwidth"),
                format!(
                    "must be between 1kbps and 100Gbps, got {}",
                    l.wan_link.bandwidth
                ),
            );
        }
        ck.duration(
            &format!("{path}.latency"),
            l.wan_link.latency.0,
            SimDuration::ZERO,
            SimDuration::from_secs(10),
        );
        if let Some(after) = l.dp_fallback {
            ck.duration(
                &format!("locations[{i}].dp_fallback"),
                after.0,
                SimDuration::ZERO,
                SimDuration::from_days(30),
            );
        }
        locations.push(LocationSpec {
            name: l.name.clone(),
            bandwidth_bps: bps,
            latency: l.wan_link.latency.0,
            dp_fallback: l.dp_fallback.map(|d| d.0),
        });
    }
    if raw.len() > MAX_SERVERS {
        ck.fail(
            "locations",
            format!("too many locations; at most {MAX_SERVERS} are allowed"),
        );
    }
    (location_names, locations)
}

/// The location an entry names, if it names one (an unknown one is
/// reported).
pub(super) fn location_of(
    ck: &mut Checker,
    path: String,
    name: &Option<String>,
    location_names: &Index,
) -> Option<LocationId> {
    name.as_ref().and_then(|n| {
        (ck.lookup(&path, "location", n, location_names)).map(|l| LocationId(l as u16))
    })
}

/// The distribution points, each at its site or in a location, then the
/// sources of those that pull their content.
pub(super) fn distribution_points(
    ck: &mut Checker,
    servers: &Servers,
    names: &ServerNames,
    sites: &Sites,
    location_names: &Index,
) -> Vec<DpSpec> {
    let mut distribution_points = Vec::new();
    for (i, d) in servers.distribution_points.iter().enumerate() {
        let path = format!("servers.distribution_points[{i}]");
        ck.count(
            format!("{path}.max_connections"),
            d.max_connections,
            1,
            100_000,
        );
        for (field, b) in [("bandwidth", d.bandwidth), ("content_link", d.content_link)] {
            if b.0 < 1_000 {
                ck.fail(
                    format!("{path}.{field}"),
                    format!("must be at least 1kbps, got {b}"),
                );
            }
        }
        let site = sites.of(ck, format!("{path}.site"), &d.site);
        let location = location_of(ck, format!("{path}.location"), &d.location, location_names);
        if d.default_boundary_group && location.is_some() {
            ck.fail(
                format!("{path}.default_boundary_group"),
                "only a DP at the site can be in the site's default boundary group; remove its `location` or this setting",
            );
        }
        let copy_plan = copy_plan(ck, &path, d);
        if d.prestaged && location.is_none() {
            ck.fail(
                format!("{path}.prestaged"),
                "prestaged content is for a DP in a location, across whose WAN link the site would send it; a DP at the site gets content with the site's; give it a `location` or remove `prestaged`",
            );
        }
        if d.prestaged && (!d.pull_from.is_empty() || copy_plan.is_some()) {
            ck.fail(
                format!("{path}.prestaged"),
                "a DP with prestaged content is sent none, so `pull_from`, `copy_schedule` and `rate_limit` have nothing to act on; remove them or `prestaged`",
            );
        }
        if copy_plan.is_some() && location.is_none() {
            ck.fail(
                format!("{path}.location"),
                "`rate_limit` and `copy_schedule` are for a DP in a location, across whose WAN link the site sends content; give it a `location` or remove them",
            );
        }
        distribution_points.push(DpSpec {
            site,
            name: d.name.clone(),
            bandwidth_bps: d.bandwidth.0,
            max_connections: d.max_connections,
            content_link_bps: d.content_link.0,
            location,
            default_boundary_group: d.default_boundary_group,
            copy_plan,
            pull_from: Vec::new(),
            prestaged: d.prestaged,
        });
    }
    pull_sources(
        ck,
        servers,
        &names.distribution_points,
        &mut distribution_points,
    );
    distribution_points
}

/// Pull-distribution points and their sources, once every DP is known.
fn pull_sources(
    ck: &mut Checker,
    servers: &Servers,
    dps: &Index,
    distribution_points: &mut [DpSpec],
) {
    for (i, d) in servers.distribution_points.iter().enumerate() {
        let path = format!("servers.distribution_points[{i}]");
        if d.pull_from.is_empty() {
            continue;
        }
        if distribution_points[i].location.is_none() {
            ck.fail(
                format!("{path}.pull_from"),
                "only a DP in a location is a pull-distribution point here: a DP at the site gets content with the site's; give it a `location` or remove `pull_from`",
            );
        }
        if !d.copy_schedule.is_empty() || d.rate_limit != RateLimit::Unlimited {
            ck.fail(
                format!("{path}.pull_from"),
                "a pull-distribution point uses no `copy_schedule` or `rate_limit` (they are the site server's, which sends it nothing); remove them or `pull_from`",
            );
        }
        let mut sources = Vec::new();
        for (j, name) in d.pull_from.iter().enumerate() {
            let at = format!("{path}.pull_from[{j}]");
            let Some(k) = ck.lookup(&at, "distribution point", name, dps) else {
                continue;
            };
            let source = &distribution_points[k];
            if source.location.is_some() || k == i {
                ck.fail(
                    at,
                    format!(
                        "'{name}' is not a DP at the site: a source must be one, as a location's WAN link joins it to the site and to no other location"
                    ),
                );
            } else if source.site != distribution_points[i].site {
                ck.fail(at, format!("'{name}' is a DP of another site"));
            } else if sources.contains(&DpId(k as u16)) {
                ck.repeated(at, "distribution point", name);
            } else {
                sources.push(DpId(k as u16));
            }
        }
        distribution_points[i].pull_from = sources;
    }
}

/// A DP's `rate_limit` and `copy_schedule`, checked, as one plan (`None`:
/// unlimited and always open).
fn copy_plan(ck: &mut Checker, path: &str, d: &DistributionPoint) -> Option<CopyPlan> {
    let open = CopyPlan {
        lowest: [Some(DistributionPriority::Low); 168],
        percent: [100; 24],
        pulse_bps: None,
    };
    let mut plan = open.clone();
    let hours = |ck: &mut Checker, path: &str, from: u32, to: u32| {
        if from > 23 || to > 24 || to <= from {
            ck.fail(
                path.to_string(),
                format!(
                    "hours must run from `from` (0–23) to a later `to` (1–24), got {from} to {to}"
                ),
            );
            return None;
        }
        Some(from as usize..to as usize)
    };
    match &d.rate_limit {
        RateLimit::Unlimited => {}
        RateLimit::PulseMode { block, delay } => {
            if !(1_000..=256_000).contains(&block.0) {
                ck.fail(
                    format!("{path}.rate_limit.block"),
                    format!("must be from 1KB to 256KB, got {block}"),
                );
            }
            let ms = delay.0.as_ms();
            if !(1_000..=30_000).contains(&ms) {
                ck.fail(
                    format!("{path}.rate_limit.delay"),
                    format!("must be from 1s to 30s, got {delay}"),
                );
            }
            plan.pulse_bps = Some((block.0 * 8 * 1_000 / ms.max(1)).max(1));
        }
        RateLimit::Hourly(limits) => {
            for (i, l) in limits.iter().enumerate() {
                let at = format!("{path}.rate_limit[{i}]");
                if !(1..=100).contains(&l.percent) {
                    ck.fail(
                        format!("{at}.percent"),
                        format!("must be from 1 to 100, got {}", l.percent),
                    );
                }
                for h in hours(ck, &at, l.from, l.to).into_iter().flatten() {
                    plan.percent[h] = plan.percent[h].min(l.percent.clamp(1, 100) as u8);
                }
            }
        }
    }
    for (i, c) in d.copy_schedule.iter().enumerate() {
        let at = format!("{path}.copy_schedule[{i}]");
        if c.days.is_empty() {
            ck.fail(format!("{at}.days"), "name at least one day");
        }
        let lowest = match c.availability {
            Availability::MediumAndHigh => Some(DistributionPriority::Medium),
            Availability::HighOnly => Some(DistributionPriority::High),
            Availability::Closed => None,
        };
        for h in hours(ck, &at, c.from, c.to).into_iter().flatten() {
            for day in &c.days {
                let cell = &mut plan.lowest[day.index() as usize * 24 + h];
                // Where two entries overlap, the stricter holds.
                *cell = match (*cell, lowest) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
        }
    }
    (plan != open).then_some(plan)
}
