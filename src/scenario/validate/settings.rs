//! Client settings: the scenario-wide object and a cohort's own, each
//! checked against the ranges the console allows.

use super::checker::Checker;
use crate::engine::SimDuration;
use crate::estate::Settings;
use crate::scenario::schema::ClientSettings;

/// The settings objects, as far as the scenario-wide one: it is number 0,
/// and each cohort that brings its own adds it.
pub(super) fn scenario_wide(ck: &mut Checker, s: &ClientSettings) -> Vec<Settings> {
    vec![client_settings(ck, "client_settings", s)]
}

/// A client settings object (at `path`), checked.
pub(super) fn client_settings(ck: &mut Checker, path: &str, s: &ClientSettings) -> Settings {
    let min = SimDuration::from_mins(1);
    let day = SimDuration::from_days(1);
    ck.duration(
        &format!("{path}.policy_polling_interval"),
        s.policy_polling_interval.0,
        SimDuration::from_mins(3),
        day,
    );
    ck.duration(
        &format!("{path}.state_message_interval"),
        s.state_message_interval.0,
        min,
        day,
    );
    ck.dist(
        &format!("{path}.power_on_policy_delay"),
        &s.power_on_policy_delay,
        day,
    );
    ck.dist(
        &format!("{path}.evaluation_delay"),
        &s.evaluation_delay,
        day,
    );
    ck.dist(&format!("{path}.scan_duration"), &s.scan_duration, day);
    let range = (SimDuration::from_hours(1), SimDuration::from_days(31));
    ck.duration(
        &format!("{path}.scan_interval"),
        s.scan_interval.0,
        range.0,
        range.1,
    );
    ck.duration(
        &format!("{path}.scan_random_delay"),
        s.scan_random_delay.0,
        SimDuration::ZERO,
        day,
    );
    ck.duration(
        &format!("{path}.first_scan_window"),
        s.first_scan_window.0,
        SimDuration::ZERO,
        day,
    );
    // Since version 1906 the restart settings go up to two weeks.
    let two_weeks = SimDuration::from_days(14);
    ck.duration(
        &format!("{path}.scan_ttl"),
        s.scan_ttl.0,
        SimDuration::from_mins(1),
        SimDuration::from_days(7),
    );
    ck.duration(
        &format!("{path}.restart_reminder_interval"),
        s.restart_reminder_interval.0,
        SimDuration::from_mins(1),
        two_weeks,
    );
    ck.duration(
        &format!("{path}.mp_retry"),
        s.mp_retry.0,
        SimDuration::from_secs(1),
        day,
    );
    ck.duration(
        &format!("{path}.mp_retry_max"),
        s.mp_retry_max.0,
        s.mp_retry.0,
        day,
    );
    ck.duration(
        &format!("{path}.scan_retry_interval"),
        s.scan_retry_interval.0,
        SimDuration::from_secs(1),
        day,
    );
    ck.count(format!("{path}.scan_retries"), s.scan_retries, 1, 100);
    ck.duration(
        &format!("{path}.download_retry"),
        s.download_retry.0,
        SimDuration::from_secs(1),
        day,
    );
    ck.duration(
        &format!("{path}.reevaluation_interval"),
        s.reevaluation_interval.0,
        SimDuration::from_hours(1),
        SimDuration::from_days(31),
    );
    ck.duration(
        &format!("{path}.restart_countdown"),
        s.restart_countdown.0,
        min,
        two_weeks,
    );
    ck.duration(
        &format!("{path}.restart_final_countdown"),
        s.restart_final_countdown.0,
        min,
        s.restart_countdown.0.max(min),
    );
    if let Some(within) = s.enforce_deadlines_within {
        ck.duration(
            &format!("{path}.enforce_deadlines_within"),
            within.0,
            SimDuration::from_hours(1),
            SimDuration::from_days(365),
        );
    }
    ck.dist(
        &format!("{path}.user_restart_delay"),
        &s.user_restart_delay,
        SimDuration::from_days(14),
    );
    ck.dist(
        &format!("{path}.restart_duration"),
        &s.restart_duration,
        SimDuration::from_hours(2),
    );
    resolve(s)
}

/// A client settings object, once checked.
fn resolve(s: &ClientSettings) -> Settings {
    Settings {
        policy_polling_interval: s.policy_polling_interval.0,
        state_message_interval: s.state_message_interval.0,
        power_on_policy_delay: s.power_on_policy_delay.resolve(),
        evaluation_delay: s.evaluation_delay.resolve(),
        scan_duration: s.scan_duration.resolve(),
        deadline_randomization: if s.deadline_randomization {
            crate::estate::DEADLINE_RANDOMIZATION
        } else {
            SimDuration::ZERO
        },
        scan_interval: s.scan_interval.0,
        scan_random_delay: s.scan_random_delay.0,
        first_scan_window: s.first_scan_window.0,
        scan_ttl: s.scan_ttl.0,
        reevaluation_interval: s.reevaluation_interval.0,
        restart_reminder_interval: s.restart_reminder_interval.0,
        restart_final_countdown: s.restart_final_countdown.0,
        updates_in_all_deployments_windows: s.updates_in_all_deployments_windows,
        enforce_deadlines_within: s.enforce_deadlines_within.map(|d| d.0),
        mp_retry: s.mp_retry.0,
        mp_retry_max: s.mp_retry_max.0,
        scan_retry_interval: s.scan_retry_interval.0,
        scan_retries: s.scan_retries,
        download_retry: s.download_retry.0,
        restart_countdown: s.restart_countdown.0,
        user_restart_delay: s.user_restart_delay.resolve(),
        restart_duration: s.restart_duration.resolve(),
    }
}
