//! The servers: their names (unique across roles), the cloud management
//! gateways, the primary sites, the management points and the software
//! update points with their WSUS databases and application pools, and how
//! many of each the model can number.
//!
//! Does not own the distribution points (`locations`, beside the WAN
//! links they sit behind) nor the faults (`faults`).

use std::collections::BTreeMap;

use super::checker::{Checker, Index};
use super::{MAX_SERVERS, site};
use crate::engine::SimDuration;
use crate::estate::{
    CatalogSpec, DpId, GatewaySpec, MpId, MpSpec, NO_SUSDB, PrimarySpec, ServerRef, SiteId, SupId,
    SupSpec, WsusPoolSpec,
};
use crate::scenario::schema::{Dist, Scenario, Servers, UpdatePoint, WsusPool};
use crate::scenario::units::{Bytes, clipped};

/// The servers' names, per role, each with its index: what cohorts and
/// pull-distribution points refer to.
pub(super) struct ServerNames<'a> {
    pub(super) management_points: Index<'a>,
    pub(super) update_points: Index<'a>,
    pub(super) distribution_points: Index<'a>,
    pub(super) gateways: Index<'a>,
}

/// Each role's names, unique, and at least one server of each role the
/// intranet needs.
pub(super) fn names<'a>(ck: &mut Checker, servers: &'a Servers) -> ServerNames<'a> {
    let mps = ck.unique(
        "servers.management_points",
        "name",
        servers.management_points.iter().map(|s| s.name.as_str()),
    );
    let sups = ck.unique(
        "servers.update_points",
        "name",
        servers.update_points.iter().map(|s| s.name.as_str()),
    );
    let dps = ck.unique(
        "servers.distribution_points",
        "name",
        servers.distribution_points.iter().map(|s| s.name.as_str()),
    );
    for (section, empty) in [
        (
            "servers.management_points",
            servers.management_points.is_empty(),
        ),
        ("servers.update_points", servers.update_points.is_empty()),
        (
            "servers.distribution_points",
            servers.distribution_points.is_empty(),
        ),
    ] {
        if empty {
            ck.fail(section, "needs at least one server");
        }
    }
    let cmgs = ck.unique(
        "servers.cloud_management_gateways",
        "name",
        servers
            .cloud_management_gateways
            .iter()
            .map(|s| s.name.as_str()),
    );
    ServerNames {
        management_points: mps,
        update_points: sups,
        distribution_points: dps,
        gateways: cmgs,
    }
}

/// The cloud management gateways: their size, and names no other server
/// takes.
pub(super) fn gateways(
    ck: &mut Checker,
    servers: &Servers,
    names: &ServerNames,
) -> Vec<GatewaySpec> {
    let (mps, sups, dps) = (
        &names.management_points,
        &names.update_points,
        &names.distribution_points,
    );
    let mut gateways = Vec::new();
    for (i, g) in servers.cloud_management_gateways.iter().enumerate() {
        let path = format!("servers.cloud_management_gateways[{i}]");
        if !(1..=16).contains(&g.vm_instances) {
            ck.fail(
                format!("{path}.vm_instances"),
                format!(
                    "must be between 1 and 16 (one CMG has at most 16 instances), got {}",
                    g.vm_instances
                ),
            );
        }
        if mps.contains_key(g.name.as_str())
            || sups.contains_key(g.name.as_str())
            || dps.contains_key(g.name.as_str())
        {
            ck.fail(
                format!("{path}.name"),
                format!(
                    "name '{}' is used by two roles; server names must be unique",
                    g.name
                ),
            );
        }
        gateways.push(GatewaySpec {
            name: g.name.clone(),
            connections: g.vm_instances.clamp(1, 16) * g.vm_size.connections(),
        });
    }
    gateways
}

/// Every server by name, whatever its role (what a fault names); a name
/// two roles share is a problem.
pub(super) fn roles<'a>(ck: &mut Checker, servers: &'a Servers) -> BTreeMap<&'a str, ServerRef> {
    let mut all_servers: BTreeMap<&str, ServerRef> = BTreeMap::new();
    let roles = servers
        .management_points
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), ServerRef::Mp(MpId(i as u16))))
        .chain(
            servers
                .update_points
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), ServerRef::Sup(SupId(i as u16)))),
        )
        .chain(
            servers
                .distribution_points
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), ServerRef::Dp(DpId(i as u16)))),
        );
    for (name, r) in roles {
        if all_servers
            .insert(name, r)
            .is_some_and(|old| std::mem::discriminant(&old) != std::mem::discriminant(&r))
        {
            ck.fail(
                "servers",
                format!("name '{name}' is used by two roles; server names must be unique"),
            );
        }
    }
    all_servers
}

/// The primary sites: the standalone site, or the CAS's children (then
/// `true`, for a hierarchy).
pub(super) fn primaries(ck: &mut Checker, raw: &Scenario) -> (bool, Vec<PrimarySpec>) {
    let day = SimDuration::from_days(1);
    let hierarchy = !raw.primaries.is_empty();
    let mut primaries = Vec::new();
    if hierarchy {
        primary_codes(ck, raw);
        for (i, p) in raw.primaries.iter().enumerate() {
            let path = format!("primaries[{i}]");
            site::code(ck, format!("{path}.code"), &p.code);
            if p.code == raw.site.code {
                ck.fail(
                    format!("{path}.code"),
                    format!("'{}' is the central administration site's code", p.code),
                );
            }
            ck.dist(&format!("{path}.sync_delay"), &p.sync_delay, day);
            ck.duration(
                &format!("{path}.replication_delay"),
                p.replication_delay.0,
                SimDuration::ZERO,
                day,
            );
            ck.count(
                format!("{path}.state_system_threads"),
                p.state_system_threads,
                1,
                64,
            );
            primaries.push(PrimarySpec {
                code: p.code.clone(),
                sync_delay: p.sync_delay.resolve(),
                replication_delay: p.replication_delay.0,
                state_system_threads: p.state_system_threads,
                clients: 0,
            });
        }
    } else {
        primaries.push(PrimarySpec {
            code: raw.site.code.clone(),
            sync_delay: crate::estate::Dist::Fixed(SimDuration::ZERO),
            replication_delay: SimDuration::ZERO,
            state_system_threads: raw.site.state_system_threads,
            clients: 0,
        });
    }
    (hierarchy, primaries)
}

/// The primaries' codes: printable, and no two alike. A server names its
/// primary by code, so two primaries of one code are refused, with the
/// code and both primaries named.
fn primary_codes(ck: &mut Checker, raw: &Scenario) {
    let mut codes: Index = BTreeMap::new();
    for (i, p) in raw.primaries.iter().enumerate() {
        let path = format!("primaries[{i}].code");
        ck.name(&path, &p.code);
        match codes.get(p.code.as_str()) {
            Some(first) => ck.fail(
                path,
                format!(
                    "primaries[{first}] and primaries[{i}] share the code '{}'; \
                     give each primary site its own code",
                    clipped(&p.code)
                ),
            ),
            None => {
                codes.insert(&p.code, i);
            }
        }
    }
}

/// The primary sites' codes, each with its index: what a server's `site`
/// names.
pub(super) struct Sites<'p>(Index<'p>);

impl<'p> Sites<'p> {
    /// A code two primaries share (refused) stands for the first of them,
    /// which is the one a server naming no site is in when the code is the
    /// first primary's: two servers are never put in two sites of one code,
    /// which `placement` would report as in different sites.
    pub(super) fn new(primaries: &'p [PrimarySpec]) -> Self {
        let mut codes = BTreeMap::new();
        for (i, p) in primaries.iter().enumerate() {
            codes.entry(p.code.as_str()).or_insert(i);
        }
        Sites(codes)
    }

    /// The site a server names: the first when it names none (or one
    /// that is unknown, which is reported).
    pub(super) fn of(&self, ck: &mut Checker, path: String, site: &Option<String>) -> SiteId {
        match site {
            None => SiteId(0),
            Some(code) => {
                SiteId(ck.lookup(&path, "primary site", code, &self.0).unwrap_or(0) as u16)
            }
        }
    }
}

/// The management points: their workers, queues and service times.
pub(super) fn management_points(ck: &mut Checker, servers: &Servers, sites: &Sites) -> Vec<MpSpec> {
    let mut management_points = Vec::new();
    for (i, m) in servers.management_points.iter().enumerate() {
        let path = format!("servers.management_points[{i}]");
        ck.count(format!("{path}.workers"), m.workers, 1, 10_000);
        ck.count(format!("{path}.queue_limit"), m.queue_limit, 0, 10_000_000);
        for (field, d) in [
            ("policy_time", &m.policy_time),
            ("location_time", &m.location_time),
            ("batch_time", &m.batch_time),
        ] {
            ck.dist(&format!("{path}.{field}"), d, SimDuration::from_hours(1));
        }
        let site = sites.of(ck, format!("{path}.site"), &m.site);
        management_points.push(MpSpec {
            site,
            name: m.name.clone(),
            workers: m.workers,
            queue_limit: m.queue_limit,
            policy_time: m.policy_time.resolve().sampler(),
            location_time: m.location_time.resolve().sampler(),
            batch_time: m.batch_time.resolve().sampler(),
        });
    }
    management_points
}

/// The software update points: their scan slots, queues, scan times and
/// sizes (scaled to the catalog, when there is one), WSUS databases and
/// application pools.
pub(super) fn update_points(
    ck: &mut Checker,
    servers: &Servers,
    sites: &Sites,
    catalog: Option<&CatalogSpec>,
) -> Vec<SupSpec> {
    let day = SimDuration::from_days(1);
    // A catalog whose numbers are out of range (reported with the sync)
    // scales nothing.
    let catalog = catalog.filter(|c| ck_ok(c));
    let mut update_points: Vec<SupSpec> = Vec::new();
    let mut databases = Vec::new();
    for (i, u) in servers.update_points.iter().enumerate() {
        let path = format!("servers.update_points[{i}]");
        ck.count(format!("{path}.scan_slots"), u.scan_slots, 1, 10_000);
        ck.count(format!("{path}.queue_limit"), u.queue_limit, 0, 10_000_000);
        ck.dist(&format!("{path}.full_scan_time"), &u.full_scan_time, day);
        ck.dist(&format!("{path}.delta_scan_time"), &u.delta_scan_time, day);
        let site = sites.of(ck, format!("{path}.site"), &u.site);
        // A catalog scales both scan times (not applied at all without
        // one, so that such scenarios keep their exact times).
        let scan_time = |d: &Dist| match catalog {
            Some(c) => d.resolve().scaled(c.scan_cost()).sampler(),
            None => d.resolve().sampler(),
        };
        let susdb = susdb(ck, &path, u, site, &mut databases);
        let wsus_pool = u
            .wsus_pool
            .as_ref()
            .map(|pool| wsus_pool(ck, &format!("{path}.wsus_pool"), pool, catalog));
        for (field, size) in [
            ("full_scan_size", u.full_scan_size),
            ("delta_scan_size", u.delta_scan_size),
        ] {
            if size.0 > 10_000_000_000 {
                ck.fail(
                    format!("{path}.{field}"),
                    format!("must be from 0B to 10GB, got {size}"),
                );
            }
        }
        // A catalog scales the metadata a scan sends, as it scales the
        // server's time.
        let scan_bytes = |b: Bytes| match catalog {
            Some(c) => (b.0 as f64 * c.scan_cost()).round() as u64,
            None => b.0,
        };
        update_points.push(SupSpec {
            site,
            full_scan_bytes: scan_bytes(u.full_scan_size),
            delta_scan_bytes: scan_bytes(u.delta_scan_size),
            name: u.name.clone(),
            scan_slots: u.scan_slots,
            queue_limit: u.queue_limit,
            full_scan_time: scan_time(&u.full_scan_time),
            delta_scan_time: scan_time(&u.delta_scan_time),
            susdb,
            wsus_pool,
        });
    }
    let own = update_points.iter_mut().filter(|s| s.susdb == NO_SUSDB);
    for (susdb, sup) in (databases.len()..).zip(own) {
        // Past the servers' limit (refused below) the number is moot.
        sup.susdb = u16::try_from(susdb).unwrap_or(NO_SUSDB);
    }
    update_points
}

/// The WSUS database an update point names, by number: the named ones in
/// the order first named (`databases`: each one's name, its site and the
/// first SUP that uses it), shared only within a site. A database of its
/// own (`NO_SUSDB` here) is numbered after the named ones, once all are
/// known.
fn susdb<'a>(
    ck: &mut Checker,
    path: &str,
    u: &'a UpdatePoint,
    site: SiteId,
    databases: &mut Vec<(&'a str, SiteId, &'a str)>,
) -> u16 {
    match &u.susdb {
        None => NO_SUSDB,
        Some(name) => match databases.iter().position(|&(n, _, _)| n == name) {
            Some(k) => {
                let (_, other_site, first) = databases[k];
                if other_site != site {
                    ck.fail(
                        format!("{path}.susdb"),
                        format!(
                            "'{name}' is the WSUS database of '{first}', at another site: \
                             only update points of one site share a database"
                        ),
                    );
                }
                k as u16
            }
            None => {
                databases.push((name, site, &u.name));
                (databases.len() - 1) as u16
            }
        },
    }
}

/// How many servers of each role, primaries and faults there are, and the
/// queueing stations they make: the model numbers each with a 16-bit id.
pub(super) fn limits(ck: &mut Checker, raw: &Scenario, state_systems: usize) {
    let servers = &raw.servers;
    for (section, what, n) in [
        (
            "servers.management_points",
            "management points",
            servers.management_points.len(),
        ),
        (
            "servers.update_points",
            "update points",
            servers.update_points.len(),
        ),
        (
            "servers.distribution_points",
            "distribution points",
            servers.distribution_points.len(),
        ),
        ("primaries", "primary sites", raw.primaries.len()),
        ("faults", "faults", raw.faults.len()),
    ] {
        if n > MAX_SERVERS {
            ck.fail(
                section,
                format!("too many {what} ({n}); at most {MAX_SERVERS} are allowed"),
            );
        }
    }
    let stations = servers.management_points.len() + servers.update_points.len() + state_systems;
    if stations > MAX_SERVERS {
        ck.fail(
            "servers",
            format!(
                "{} management points, {} update points and {} state system{} make {stations} \
                 queueing stations; at most {MAX_SERVERS} are allowed",
                servers.management_points.len(),
                servers.update_points.len(),
                state_systems,
                if state_systems == 1 { "" } else { "s" }
            ),
        );
    }
}

/// Whether a catalog's numbers are in range (its problems are reported
/// where it is checked): only then is its scan cost computed.
fn ck_ok(c: &CatalogSpec) -> bool {
    c.reference_updates > 0 && (0.0..=1.0).contains(&c.superseded_share)
}

/// A SUP's WSUS application pool, checked, its memory scaled to the
/// catalog (as scan times are).
fn wsus_pool(
    ck: &mut Checker,
    path: &str,
    pool: &WsusPool,
    catalog: Option<&CatalogSpec>,
) -> WsusPoolSpec {
    const TB: u64 = 1_000_000_000_000;
    for (field, value) in [
        ("private_memory_limit", pool.private_memory_limit),
        ("cache", pool.cache),
        ("full_scan", pool.full_scan),
        ("delta_scan", pool.delta_scan),
    ] {
        if value.0 > TB {
            ck.fail(
                format!("{path}.{field}"),
                format!("must be from 0B to 1TB, got {value}"),
            );
        }
    }
    ck.duration(
        &format!("{path}.restart"),
        pool.restart.0,
        SimDuration::from_secs(1),
        SimDuration::from_hours(1),
    );
    let cost = catalog.map_or(1.0, |c| c.scan_cost());
    let scaled = |b: Bytes| (b.0 as f64 * cost).round() as u64;
    WsusPoolSpec {
        limit: (pool.private_memory_limit.0 > 0).then_some(pool.private_memory_limit.0),
        cache: scaled(pool.cache),
        full_scan: scaled(pool.full_scan),
        delta_scan: scaled(pool.delta_scan),
        restart: pool.restart.0,
    }
}
