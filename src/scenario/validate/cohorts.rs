//! Cohorts: their clients, power, shares of behaviours, maintenance
//! windows and scheduled restarts, and the servers, gateway and location
//! they are placed on; then whether each cohort's servers share its site
//! and how many clients each site holds.
//!
//! Does not own the client settings a cohort brings (`settings`).

use super::checker::{Checker, Index};
use super::locations::location_of;
use super::servers::ServerNames;
use super::settings::client_settings;
use super::{MAX_CLIENTS, Topology};
use crate::engine::SimDuration;
use crate::estate::{
    CohortSpec, ContentSpec, DpId, DpSpec, LocationId, MpId, MpSpec, PowerSpec,
    RestartScheduleSpec, Settings, SettingsId, SiteId, SupId, WindowKind, WindowSpec,
};
use crate::scenario::schema::{Cohort, Power, Recurrence, WindowType};
use crate::scenario::units::ClockTime;

/// The cohorts, placed in `topology`, with their names; a cohort that
/// brings its own client settings adds them to `settings`.
pub(super) fn cohorts<'a>(
    ck: &mut Checker,
    raw: &'a [Cohort],
    topology: &Topology,
    settings: &mut Vec<Settings>,
) -> (Index<'a>, Vec<CohortSpec>) {
    if raw.is_empty() {
        ck.fail("cohorts", "needs at least one cohort");
    }
    let cohort_index = ck.unique("cohorts", "name", raw.iter().map(|c| c.name.as_str()));
    let mut cohorts = Vec::new();
    let mut next_client: u64 = 0;
    for (i, c) in raw.iter().enumerate() {
        let first_client = next_client.min(u64::from(u32::MAX)) as u32;
        cohorts.push(cohort(ck, i, c, first_client, topology, settings));
        next_client += u64::from(c.count);
    }
    (cohort_index, cohorts)
}

/// One cohort, whose clients are numbered from `first_client`.
fn cohort(
    ck: &mut Checker,
    i: usize,
    c: &Cohort,
    first_client: u32,
    topology: &Topology,
    settings: &mut Vec<Settings>,
) -> CohortSpec {
    let path = format!("cohorts[{i}]");
    if c.count == 0 || u64::from(c.count) > MAX_CLIENTS {
        ck.fail(
            format!("{path}.count"),
            format!(
                "must be between 1 and {MAX_CLIENTS}, got {}{}",
                c.count,
                if c.count == 0 {
                    "; remove the cohort if it has no clients"
                } else {
                    ""
                }
            ),
        );
    }
    if c.link.0 < 1_000 {
        ck.fail(
            format!("{path}.link"),
            format!("must be at least 1kbps, got {}", c.link),
        );
    }

    let power = power(ck, &path, &c.power);
    shares(ck, &path, c);
    let windows = windows(ck, &path, c);
    let scheduled_restart = c.scheduled_restart.as_ref().map(|r| {
        let (period, offset) = recurring(
            ck,
            &format!("{path}.scheduled_restart"),
            r.recurrence,
            r.start,
        );
        RestartScheduleSpec { period, offset }
    });

    let (mps, sups) = points(ck, &path, c, &topology.names);
    let (dp, gateway, location, crosses) = network(ck, &path, c, topology);
    let settings_id = match &c.client_settings {
        Some(s) => {
            settings.push(client_settings(ck, &format!("{path}.client_settings"), s));
            SettingsId((settings.len() - 1) as u16)
        }
        None => SettingsId(0),
    };

    CohortSpec {
        name: c.name.clone(),
        count: c.count,
        first_client,
        power,
        link_bps: c.link.0,
        mp: MpId(mps[0] as u16),
        mp_fallbacks: mps[1..].iter().map(|&m| MpId(m as u16)).collect(),
        sups,
        dp,
        gateway,
        location,
        crosses,
        settings: settings_id,
        site: (topology.management_points)
            .get(mps[0])
            .map_or(SiteId(0), |m: &MpSpec| m.site),
        kind: c.kind.resolve(),
        gpo_conflict: c.gpo_conflict,
        fast_startup: c.fast_startup,
        dormant: c.dormant,
        broken_agent: c.broken_agent,
        co_managed: c.co_managed,
        scan_error_probability: c.scan_error_probability,
        state_message_loss: c.state_message_loss,
        windows,
        scheduled_restart,
        failure_probability: c.failure_probability,
        available_install_share: c.available_install_share,
        available_install_delay: c.available_install_delay.resolve(),
        early_install_share: c.early_install_share,
        early_install_delay: c.early_install_delay.resolve(),
        content: content_sources(ck, &path, c),
    }
}

/// A cohort's power: always on, office hours, or on and off at random.
fn power(ck: &mut Checker, path: &str, power: &Power) -> PowerSpec {
    let day = SimDuration::from_days(1);
    match power {
        Power::AlwaysOn => PowerSpec::AlwaysOn,
        Power::BusinessHours {
            start,
            end: stop,
            jitter,
        } => {
            if start >= stop {
                ck.fail(
                    format!("{path}.power"),
                    format!("start ({start}) must be before end ({stop})"),
                );
            } else if jitter.0.as_ms().saturating_mul(2) >= stop.0.as_ms() - start.0.as_ms() {
                ck.fail(
                    format!("{path}.power.jitter"),
                    format!(
                        "must be less than half the working day ({start}–{stop}), got {jitter}"
                    ),
                );
            } else if jitter.0 > start.0 || stop.0 + jitter.0 > day {
                ck.fail(
                    format!("{path}.power.jitter"),
                    format!("must keep the day within 00:00–24:00 ({start}–{stop} ± {jitter})"),
                );
            }
            PowerSpec::BusinessHours {
                start: start.0,
                end: stop.0,
                jitter: jitter.0,
            }
        }
        Power::Intermittent { on, off } => {
            let week = SimDuration::from_days(7);
            ck.dist(&format!("{path}.power.on"), on, week);
            ck.dist(&format!("{path}.power.off"), off, week);
            if on.resolve().mean_ms() < 60_000.0 || off.resolve().mean_ms() < 60_000.0 {
                ck.fail(
                    format!("{path}.power"),
                    "on and off periods must average at least 1m",
                );
            }
            PowerSpec::Intermittent {
                on: on.resolve(),
                off: off.resolve(),
            }
        }
    }
}

/// A cohort's shares of behaviours, and its delays to install what is
/// available or before the deadline.
fn shares(ck: &mut Checker, path: &str, c: &Cohort) {
    ck.probability(&format!("{path}.gpo_conflict"), c.gpo_conflict);
    ck.probability(&format!("{path}.fast_startup"), c.fast_startup);
    ck.probability(&format!("{path}.dormant"), c.dormant);
    ck.probability(&format!("{path}.broken_agent"), c.broken_agent);
    ck.probability(&format!("{path}.co_managed"), c.co_managed);
    ck.probability(
        &format!("{path}.scan_error_probability"),
        c.scan_error_probability,
    );
    ck.probability(&format!("{path}.state_message_loss"), c.state_message_loss);
    ck.probability(
        &format!("{path}.failure_probability"),
        c.failure_probability,
    );
    ck.probability(
        &format!("{path}.available_install_share"),
        c.available_install_share,
    );
    ck.dist(
        &format!("{path}.available_install_delay"),
        &c.available_install_delay,
        SimDuration::from_days(60),
    );
    ck.probability(
        &format!("{path}.early_install_share"),
        c.early_install_share,
    );
    ck.dist(
        &format!("{path}.early_install_delay"),
        &c.early_install_delay,
        SimDuration::from_days(60),
    );
}

/// A cohort's maintenance windows.
fn windows(ck: &mut Checker, path: &str, c: &Cohort) -> Vec<WindowSpec> {
    let day = SimDuration::from_days(1);
    let mut windows = Vec::new();
    for (j, w) in c.maintenance_windows.iter().enumerate() {
        let wpath = format!("{path}.maintenance_windows[{j}]");
        if w.length.0 < SimDuration::from_mins(5) || w.length.0 >= day {
            ck.fail(
                format!("{wpath}.length"),
                format!(
                    "must be at least 5m and less than 24h (the maintenance window dialog's limits), got {}",
                    w.length
                ),
            );
        }
        let (period, offset) = recurring(ck, &wpath, w.recurrence, w.start);
        windows.push(WindowSpec {
            period,
            offset,
            length: w.length.0,
            kind: match w.applies_to {
                WindowType::AllDeployments => WindowKind::AllDeployments,
                WindowType::SoftwareUpdates => WindowKind::SoftwareUpdates,
            },
        });
    }
    windows
}

/// A cohort's management points (their indices) and update points, each
/// the one it names then its fallbacks, in order.
fn points(
    ck: &mut Checker,
    path: &str,
    c: &Cohort,
    names: &ServerNames,
) -> (Vec<usize>, Vec<SupId>) {
    let (mps, sups) = (&names.management_points, &names.update_points);
    let mp = ck
        .lookup(
            &format!("{path}.management_point"),
            "management point",
            &c.management_point,
            mps,
        )
        .unwrap_or(0);
    let cohort_mps = ck.fallbacks(
        &format!("{path}.fallback_management_points"),
        "management point",
        mp,
        &c.fallback_management_points,
        mps,
    );
    let sup = ck
        .lookup(
            &format!("{path}.update_point"),
            "update point",
            &c.update_point,
            sups,
        )
        .unwrap_or(0);
    let cohort_sups: Vec<SupId> = ck
        .fallbacks(
            &format!("{path}.fallback_update_points"),
            "update point",
            sup,
            &c.fallback_update_points,
            sups,
        )
        .into_iter()
        .map(|s| SupId(s as u16))
        .collect();

    (cohort_mps, cohort_sups)
}

/// Where a cohort downloads from and through: its distribution point (or
/// its cloud management gateway, on the internet), its location, and the
/// WAN link a download from its DP crosses, if any.
fn network(
    ck: &mut Checker,
    path: &str,
    c: &Cohort,
    topology: &Topology,
) -> (
    Option<DpId>,
    Option<u16>,
    Option<LocationId>,
    Option<LocationId>,
) {
    let (dps, cmgs) = (
        &topology.names.distribution_points,
        &topology.names.gateways,
    );
    let distribution_points = &topology.distribution_points;
    let dp_path = format!("{path}.distribution_point");
    let dp = match (&c.distribution_point, &c.cloud_management_gateway) {
        (Some(name), None) => Some(
            ck.lookup(&dp_path, "distribution point", name, dps)
                .unwrap_or(0),
        ),
        (None, None) => {
            ck.fail(
                dp_path,
                "needed on the intranet: the name of the distribution point the cohort downloads from",
            );
            Some(0)
        }
        (Some(_), Some(_)) => {
            ck.fail(
                dp_path,
                "a cohort behind a cloud management gateway downloads software updates from Microsoft Update, never from a distribution point (\"Internet-based clients always download content from the Microsoft Update cloud service\"); remove the field",
            );
            None
        }
        (None, Some(_)) => None,
    };
    let gateway = (c.cloud_management_gateway.as_ref()).and_then(|name| {
        ck.lookup(
            &format!("{path}.cloud_management_gateway"),
            "cloud management gateway",
            name,
            cmgs,
        )
        .map(|g| g as u16)
    });
    let location = location_of(
        ck,
        format!("{path}.location"),
        &c.location,
        &topology.location_names,
    );
    if location.is_some() && c.cloud_management_gateway.is_some() {
        ck.fail(
            format!("{path}.location"),
            "a cohort behind a cloud management gateway is on the internet, in no location; remove one of the two fields",
        );
    }
    let dp_location = dp
        .and_then(|dp| distribution_points.get(dp))
        .and_then(|d: &DpSpec| d.location);
    let crosses = match (location, dp_location) {
        (Some(a), Some(b)) if a != b => {
            ck.fail(
                format!("{path}.location"),
                format!(
                    "the cohort is in location '{}' but its distribution point '{}' is in location '{}'; a download crosses at most one WAN link: use a DP at the site or in '{}'",
                    topology.locations[a.index()].name,
                    c.distribution_point.as_deref().unwrap_or_default(),
                    topology.locations[b.index()].name,
                    topology.locations[a.index()].name,
                ),
            );
            None
        }
        (a, b) if a == b => None,
        (a, b) => a.or(b),
    };

    (dp.map(|dp| DpId(dp as u16)), gateway, location, crosses)
}

/// Each cohort lives in one primary site: its servers must all be there.
/// Counts each site's clients.
pub(super) fn placement(ck: &mut Checker, cohorts: &[CohortSpec], topology: &mut Topology) {
    let Topology {
        primaries,
        management_points,
        update_points,
        distribution_points,
        ..
    } = topology;
    for (i, c) in cohorts.iter().enumerate() {
        let site = c.site;
        let code = |s: SiteId| primaries[s.index()].code.clone();
        let mut check = |what: &str, name: &str, s: SiteId| {
            if s != site {
                ck.fail(
                    format!("cohorts[{i}]"),
                    format!(
                        "{what} '{name}' is in site {} but the cohort's management point is in {}; a cohort's servers must share a primary site",
                        code(s),
                        code(site)
                    ),
                );
            }
        };
        for sup in &c.sups {
            if let Some(u) = update_points.get(sup.index()) {
                check("update point", &u.name, u.site);
            }
        }
        for mp in &c.mp_fallbacks {
            if let Some(m) = management_points.get(mp.index()) {
                check("management point", &m.name, m.site);
            }
        }
        if let Some(d) = c.dp.and_then(|dp| distribution_points.get(dp.index())) {
            check("distribution point", &d.name, d.site);
        }
        primaries[site.index()].clients = primaries[site.index()].clients.saturating_add(c.count);
    }
}

/// How many clients each primary site, and the run, may hold, and how many
/// cohorts.
pub(super) fn limits(ck: &mut Checker, raw: &[Cohort], topology: &Topology) {
    let (hierarchy, primaries) = (topology.hierarchy, &topology.primaries);
    // Every simulated client is a Windows computer: a standalone primary
    // supports 175,000 devices of which at most 150,000 Windows, a child
    // primary 150,000 devices in all.
    let per_primary = 150_000;
    for (i, p) in primaries.iter().enumerate() {
        if p.clients > per_primary {
            let path = if hierarchy {
                format!("primaries[{i}]")
            } else {
                "cohorts".to_string()
            };
            ck.fail(
                path,
                format!(
                    "site {} manages {} clients; a primary site supports at most {per_primary} Windows clients{}",
                    p.code,
                    p.clients,
                    if hierarchy {
                        ""
                    } else {
                        " (a standalone site's 175,000 devices include at most 150,000 Windows): add `primaries` under a central administration site"
                    }
                ),
            );
        }
    }
    let clients: u64 = raw.iter().map(|c| u64::from(c.count)).sum();
    if clients > MAX_CLIENTS {
        ck.fail(
            "cohorts",
            format!("hold {clients} clients in all; at most {MAX_CLIENTS} are allowed"),
        );
    }
    if raw.len() > usize::from(u16::MAX) {
        ck.fail("cohorts", "too many cohorts (at most 65535)");
    }
}

/// A recurrence and a local time of day as a period and an offset from
/// local Monday 00:00 (weekly) or midnight (daily); the time must be before
/// 24:00.
fn recurring(
    ck: &mut Checker,
    path: &str,
    recurrence: Recurrence,
    start: ClockTime,
) -> (SimDuration, SimDuration) {
    let day = SimDuration::from_days(1);
    if start.0 >= day {
        ck.fail(
            format!("{path}.start"),
            format!("must be before 24:00, got {start}"),
        );
    }
    match recurrence {
        Recurrence::Daily => (day, start.0),
        Recurrence::Weekly(d) => (
            SimDuration::from_days(7),
            SimDuration::from_ms(d.index() * day.as_ms() + start.0.as_ms()),
        ),
    }
}

/// Checks a cohort's `content_sources` and resolves them.
fn content_sources(ck: &mut Checker, path: &str, c: &Cohort) -> ContentSpec {
    let k = &c.content_sources;
    let path = format!("{path}.content_sources");
    for (field, share) in [
        ("peer_cache", k.peer_cache),
        ("branch_cache", k.branch_cache),
        ("delivery_optimization", k.delivery_optimization),
        ("express", k.express),
    ] {
        ck.probability(&format!("{path}.{field}"), share);
    }
    if k.branch_cache + k.delivery_optimization > 1.0 {
        ck.fail(
            format!("{path}.delivery_optimization"),
            format!(
                "branch_cache and delivery_optimization are shares of the same bytes and must add up to at most 1, got {} + {}",
                k.branch_cache, k.delivery_optimization
            ),
        );
    }
    // Left out, it is the cohort's link, which is checked as `link`.
    if let Some(peer_link) = k.peer_link
        && peer_link.0 < 1_000
    {
        ck.fail(
            format!("{path}.peer_link"),
            format!("must be at least 1kbps, got {peer_link}"),
        );
    }
    let peer_link = k.peer_link.unwrap_or(c.link);
    if let Some(size) = k.cache_size
        && size.0 < 1_000_000
    {
        ck.fail(
            format!("{path}.cache_size"),
            format!("must be at least 1MB, got {size}"),
        );
    }
    ContentSpec {
        cache_bytes: k.cache_size.map(|b| b.0),
        peer_cache: k.peer_cache,
        peer_link_bps: peer_link.0,
        branch_cache: k.branch_cache,
        delivery_optimization: k.delivery_optimization,
        express: k.express,
    }
}
