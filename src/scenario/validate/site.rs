//! The site (a standalone primary, or a central administration site) and
//! its software update sync: their times, the site server's capacity and
//! the WSUS catalog.
//!
//! Does not own the primaries below a central site (`servers`).

use super::checker::Checker;
use crate::engine::{SimDuration, SimTime};
use crate::estate::{CatalogSpec, SiteSpec, SyncSpec};
use crate::scenario::schema::{Scenario, Site};

/// The site's code and delays.
pub(super) fn site(ck: &mut Checker, site: &Site) {
    let day = SimDuration::from_days(1);
    code(ck, "site.code", &site.code);
    ck.dist(
        "site.content_ready_delay",
        &site.content_ready_delay,
        SimDuration::from_days(7),
    );
    ck.duration(
        "site.mp_forward_delay",
        site.mp_forward_delay.0,
        SimDuration::ZERO,
        day,
    );
    ck.duration(
        "site.state_system_delay",
        site.state_system_delay.0,
        SimDuration::ZERO,
        day,
    );
    ck.duration(
        "site.resync_min_missing_age",
        site.resync_min_missing_age.0,
        SimDuration::ZERO,
        SimDuration::from_days(30),
    );
    ck.duration(
        "site.resync_check_interval",
        site.resync_check_interval.0,
        SimDuration::from_mins(1),
        day,
    );
}

/// A site code (the site's, or a primary's): three letters or digits.
pub(super) fn code(ck: &mut Checker, path: impl Into<String>, code: &str) {
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        ck.fail(
            path,
            format!("must be three letters or digits, got '{code}'"),
        );
    }
}

/// The site's software update sync: its schedule, its durations and the
/// catalog it brings.
pub(super) fn sync(ck: &mut Checker, raw: &Scenario) -> SyncSpec {
    let day = SimDuration::from_days(1);
    let sy = &raw.sync;
    ck.duration(
        "sync.schedule_interval",
        sy.schedule_interval.0,
        SimDuration::from_hours(1),
        SimDuration::from_days(31),
    );
    let first_scheduled = match &sy.first_scheduled {
        Some(t) => ck.instant("sync.first_scheduled", t, &raw.start),
        None => SimTime::ZERO,
    };
    let mut manual = Vec::new();
    for (i, t) in sy.manual.iter().enumerate() {
        manual.push(ck.instant(&format!("sync.manual[{i}]"), t, &raw.start));
    }
    manual.sort();
    ck.dist("sync.full_duration", &sy.full_duration, day);
    ck.dist("sync.delta_duration", &sy.delta_duration, day);
    ck.duration(
        "sync.per_new_update",
        sy.per_new_update.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.poll_interval",
        sy.poll_interval.0,
        SimDuration::from_secs(1),
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.pull_delay",
        sy.pull_delay.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.insert_per_update",
        sy.insert_per_update.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.retry_interval",
        sy.retry_interval.0,
        SimDuration::from_mins(1),
        SimDuration::from_hours(24),
    );
    if let Some(c) = &sy.catalog {
        for (field, v) in [
            ("updates", c.updates),
            ("reference_updates", c.reference_updates),
        ] {
            if !(1..=1_000_000).contains(&v) {
                ck.fail(
                    format!("sync.catalog.{field}"),
                    format!("must be between 1 and 1000000, got {v}"),
                );
            }
        }
        ck.probability("sync.catalog.superseded_share", c.superseded_share);
    }
    let sync = SyncSpec {
        initially_synced: sy.initially_synced,
        schedule_interval: sy.schedule_interval.0,
        first_scheduled,
        manual,
        full_duration: sy.full_duration.resolve(),
        delta_duration: sy.delta_duration.resolve(),
        per_new_update: sy.per_new_update.0,
        poll_interval: sy.poll_interval.0,
        pull_delay: sy.pull_delay.0,
        insert_per_update: sy.insert_per_update.0,
        retry_interval: sy.retry_interval.0,
        catalog: sy.catalog.as_ref().map(|c| CatalogSpec {
            updates: c.updates,
            superseded_share: c.superseded_share,
            decline_superseded: c.decline_superseded,
            reference_updates: c.reference_updates,
        }),
        expire_superseded_after: sy.expire_superseded_after.map(|d| d.0),
        // Set when the estate is built, once it is known whether the site
        // is a CAS.
        top_update_point: None,
    };
    if let Some(after) = sy.expire_superseded_after {
        ck.duration(
            "sync.expire_superseded_after",
            after.0,
            SimDuration::ZERO,
            SimDuration::from_days(3650),
        );
    }
    sync
}

/// The site server's capacity: its state system and how many packages it
/// copies to distribution points at once.
pub(super) fn site_server(ck: &mut Checker, st: &Site) {
    ck.count("site.state_system_threads", st.state_system_threads, 1, 64);
    ck.duration(
        "site.state_system_per_batch",
        st.state_system_per_batch.0,
        SimDuration::ZERO,
        SimDuration::from_mins(1),
    );
    ck.duration(
        "site.state_system_per_message",
        st.state_system_per_message.0,
        SimDuration::ZERO,
        SimDuration::from_mins(1),
    );
    if st.download_bandwidth.0 < 1_000 {
        ck.fail(
            "site.download_bandwidth",
            format!("must be at least 1kbps, got {}", st.download_bandwidth),
        );
    }
    ck.count("site.max_packages", st.max_packages, 1, 50);
    ck.count(
        "site.max_threads_per_package",
        st.max_threads_per_package,
        1,
        999,
    );
}

/// The site, once checked.
pub(super) fn spec(site: &Site) -> SiteSpec {
    SiteSpec {
        content_ready_delay: site.content_ready_delay.resolve(),
        mp_forward_delay: site.mp_forward_delay.0,
        state_system_delay: site.state_system_delay.0,
        state_system_threads: site.state_system_threads,
        state_system_per_batch: site.state_system_per_batch.0,
        state_system_per_message: site.state_system_per_message.0,
        download_bandwidth_bps: site.download_bandwidth.0,
        copy_threads: site.max_packages * site.max_threads_per_package,
        resync_min_missing_age: site.resync_min_missing_age.0,
        resync_check_interval: site.resync_check_interval.0,
    }
}
