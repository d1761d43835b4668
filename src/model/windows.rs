//! Maintenance windows: which of a client's windows software updates use,
//! how overlapping windows merge, how much time is left in the open one,
//! and when the next window with room for an install opens.
//!
//! Owns the arithmetic of recurring windows in local time (daily or weekly,
//! from the scenario start's UTC offset) as Configuration Manager applies
//! it ("How to use maintenance windows"):
//! - a client with windows of both types installs software updates only in
//!   its `SoftwareUpdates` windows, unless its client settings also allow
//!   the `AllDeployments` ones;
//! - overlapping windows are one window (06:00–07:00 and 06:30–07:30 are
//!   one window of 90 minutes); windows that only touch stay apart;
//! - an update may start only if its max run time fits in what is left of
//!   the open window.
//!
//! What a client does with it (which update, when) is `client.rs`'s.

use crate::engine::{SimDuration, SimTime};
use crate::estate::{
    CohortId, CohortSpec, DeploymentId, Estate, Purpose, RestartScheduleSpec, Settings, UpdateId,
    WindowSpec,
};

const WEEK: u64 = 7 * 86_400_000;

/// A client's maintenance windows for software updates, merged: the spans
/// of one week during which a window is open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// Open spans `[start, end)`, ms from local Monday 00:00, by start;
    /// every start within the week, the last span's end perhaps past it
    /// (it runs into the next week). No two overlap, across the week's end
    /// too.
    spans: Vec<(u64, u64)>,
    /// A window is open at every instant.
    always: bool,
    /// Local time of simulated zero since Monday 00:00, ms.
    week_offset: u64,
}

impl Schedule {
    /// Per cohort of `estate`, in order: the windows its clients install
    /// software updates in ([`Schedule::for_updates`]).
    pub(crate) fn per_cohort(estate: &Estate) -> Vec<Schedule> {
        (estate.cohorts.iter())
            .map(|k| {
                Schedule::for_updates(k, &estate.settings[k.settings.index()], estate.week_offset)
            })
            .collect()
    }

    /// The windows software updates use on a cohort's clients: its
    /// `SoftwareUpdates` windows if it has any (with its `AllDeployments`
    /// ones too if `settings` allow them), else all of its windows.
    pub(crate) fn for_updates(
        cohort: &CohortSpec,
        settings: &Settings,
        week_offset: SimDuration,
    ) -> Self {
        Schedule::new(&cohort.update_windows(settings), week_offset)
    }

    /// These windows, merged. `week_offset` is the local time of simulated
    /// zero since Monday 00:00.
    pub(crate) fn new<'a>(
        windows: impl IntoIterator<Item = &'a WindowSpec>,
        week_offset: SimDuration,
    ) -> Self {
        let mut spans: Vec<(u64, u64)> = Vec::new();
        for w in windows {
            let period = w.period.as_ms();
            for k in 0..WEEK / period {
                let start = (w.offset.as_ms() + k * period) % WEEK;
                spans.push((start, start + w.length.as_ms()));
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        // Only the last span can run past the week's end, over the first
        // spans of the next week: merge those into it.
        let mut always = false;
        while merged.len() > 1 {
            let (first, last) = (merged[0], merged[merged.len() - 1]);
            if first.0 + WEEK >= last.1 {
                break;
            }
            let n = merged.len();
            merged[n - 1].1 = last.1.max(first.1 + WEEK);
            merged.remove(0);
        }
        if let [(start, end)] = merged[..]
            && end - start >= WEEK
        {
            always = true;
            merged.clear();
        }
        Schedule {
            spans: merged,
            always,
            week_offset: week_offset.as_ms(),
        }
    }

    /// Whether there is no window at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.spans.is_empty() && !self.always
    }

    /// The local time of `t`: the start of its week and how far into it.
    fn local(&self, t: SimTime) -> (u64, u64) {
        let local = self.week_offset + t.as_ms();
        let into = local % WEEK;
        (local - into, into)
    }

    fn at_local(&self, local: u64) -> SimTime {
        SimTime(local - self.week_offset)
    }

    /// What is left at `now` of the window open then (`None`: none is open;
    /// `u64::MAX` ms if windows are always open).
    pub(crate) fn left(&self, now: SimTime) -> Option<SimDuration> {
        if self.always {
            return Some(SimDuration(u64::MAX));
        }
        let (_, into) = self.local(now);
        let i = self.spans.partition_point(|s| s.0 <= into);
        if i > 0 && self.spans[i - 1].1 > into {
            return Some(SimDuration(self.spans[i - 1].1 - into));
        }
        // The last span of the week before, still open.
        match self.spans.last() {
            Some(&(_, end)) if into + WEEK < end => Some(SimDuration(end - WEEK - into)),
            _ => None,
        }
    }

    /// The earliest instant at or after `now` at which a window is open
    /// with at least `need` left; `None` if no window is that long.
    pub(crate) fn next_fit(&self, now: SimTime, need: SimDuration) -> Option<SimTime> {
        if self.left(now).is_some_and(|left| left >= need) {
            return Some(now);
        }
        let (week, into) = self.local(now);
        let long = |s: &&(u64, u64)| s.1 - s.0 >= need.as_ms();
        if let Some(s) = self.spans.iter().filter(|s| s.0 > into).find(long) {
            return Some(self.at_local(week + s.0));
        }
        let s = self.spans.iter().find(long)?;
        Some(self.at_local(week + WEEK + s.0))
    }

    /// The first opening of a window strictly after `now` (`now` itself if
    /// a window is always open; `None` if there is none).
    pub(crate) fn next_opening(&self, now: SimTime) -> Option<SimTime> {
        if self.always {
            return Some(now);
        }
        let (week, into) = self.local(now);
        match self.spans.iter().find(|s| s.0 > into) {
            Some(s) => Some(self.at_local(week + s.0)),
            None => Some(self.at_local(week + WEEK + self.spans.first()?.0)),
        }
    }

    /// How long the longest window is open (`None`: there is none).
    pub(crate) fn longest(&self) -> Option<SimDuration> {
        if self.always {
            return Some(SimDuration(u64::MAX));
        }
        (self.spans.iter()).map(|s| SimDuration(s.1 - s.0)).max()
    }
}

/// The first instant at or after `now` of a recurring restart.
pub(crate) fn next_restart(
    schedule: &RestartScheduleSpec,
    week_offset: SimDuration,
    now: SimTime,
) -> SimTime {
    let local = week_offset.as_ms() + now.as_ms();
    let period = schedule.period.as_ms();
    let wait = (schedule.offset.as_ms() % period + period - local % period) % period;
    now + SimDuration(wait)
}

/// An update of a Required deployment that honours maintenance windows
/// whose max run time is longer than every window a targeted cohort's
/// clients install software updates in: it never installs there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLong {
    /// The deployment.
    pub deployment: DeploymentId,
    /// The update.
    pub update: UpdateId,
    /// The cohort.
    pub cohort: CohortId,
    /// The update's max run time.
    pub max_run_time: SimDuration,
    /// The cohort's longest window (merged) for software updates.
    pub longest_window: SimDuration,
}

/// Every update that can never install on a targeted cohort because no
/// window of it is long enough, in deployment, update, then cohort order.
pub fn too_long(estate: &Estate) -> Vec<TooLong> {
    let schedules = Schedule::per_cohort(estate);
    let mut found = Vec::new();
    for (d, spec) in estate.deployments.iter().enumerate() {
        if spec.purpose != Purpose::Required || !spec.honor_maintenance_windows {
            continue;
        }
        for &u in &spec.updates {
            let max_run_time = estate.updates[u.index()].max_run_time;
            for &k in &spec.targets {
                let Some(longest) = schedules[k.index()].longest() else {
                    continue;
                };
                if max_run_time > longest {
                    found.push(TooLong {
                        deployment: DeploymentId(d as u16),
                        update: u,
                        cohort: k,
                        max_run_time,
                        longest_window: longest,
                    });
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;
    const M: u64 = 60_000;
    const DAY: u64 = 24 * H;

    use crate::estate::WindowKind;

    fn window(period_days: u64, start_m: u64, len_m: u64, kind: WindowKind) -> WindowSpec {
        WindowSpec {
            period: SimDuration::from_days(period_days),
            offset: SimDuration::from_mins(start_m),
            length: SimDuration::from_mins(len_m),
            kind,
        }
    }

    fn daily(start_h: u64, len_h: u64) -> WindowSpec {
        window(1, start_h * 60, len_h * 60, WindowKind::AllDeployments)
    }

    /// Weekly, `day` days after Monday, at `start_m` minutes past midnight.
    fn weekly(day: u64, start_m: u64, len_m: u64) -> WindowSpec {
        window(
            7,
            day * 24 * 60 + start_m,
            len_m,
            WindowKind::AllDeployments,
        )
    }

    fn schedule(windows: &[WindowSpec]) -> Schedule {
        Schedule::new(windows, SimDuration::ZERO)
    }

    fn left(s: &Schedule, t: u64) -> Option<u64> {
        s.left(SimTime(t)).map(|d| d.as_ms())
    }

    #[test]
    fn daily_window() {
        let w = schedule(&[daily(1, 3)]);
        let need = SimDuration::from_hours(1);
        let fit = |t: u64, need: SimDuration| w.next_fit(SimTime(t), need);
        // 00:00 → opens 01:00; 02:00 → now; 03:30 → next day 01:00 (only 30 min left).
        assert_eq!(fit(0, need), Some(SimTime(H)));
        assert_eq!(fit(2 * H, need), Some(SimTime(2 * H)));
        assert_eq!(fit(3 * H + H / 2, need), Some(SimTime(25 * H)));
        assert_eq!(fit(3 * H, need), Some(SimTime(3 * H)));
        assert_eq!(fit(0, SimDuration::from_hours(4)), None);
        assert_eq!(left(&w, 2 * H), Some(2 * H));
        assert_eq!(left(&w, 4 * H), None, "closed at its end");
        assert_eq!(left(&w, 6 * DAY + 3 * H), Some(H), "Sunday too");
        assert_eq!(w.longest(), Some(SimDuration::from_hours(3)));
        assert_eq!(w.next_opening(SimTime(2 * H)), Some(SimTime(25 * H)));
        assert_eq!(w.next_opening(SimTime(0)), Some(SimTime(H)));
    }

    #[test]
    fn weekly_window_respects_week_offset() {
        // Saturday 22:00 for 4 h; simulated zero is Wednesday 12:00 local.
        let w = Schedule::new(
            &[weekly(5, 22 * 60, 4 * 60)],
            SimDuration::from_hours(2 * 24 + 12),
        );
        let t = w.next_fit(SimTime(0), SimDuration::from_hours(2)).unwrap();
        assert_eq!(t, SimTime((3 * 24 + 10) * H));
        // Sunday 00:30 local: inside the window with 1.5 h left.
        let inside = SimTime((3 * 24 + 10) * H + 150 * M);
        assert_eq!(w.left(inside), Some(SimDuration(90 * M)));
        assert_eq!(w.next_fit(inside, SimDuration::from_hours(1)), Some(inside));
        let next_week = SimTime((10 * 24 + 10) * H);
        assert_eq!(
            w.next_fit(inside, SimDuration::from_hours(2)),
            Some(next_week)
        );
    }

    /// The documented example: 06:00–07:00 and 06:30–07:30 are one window
    /// of 90 minutes, and what is left is counted on it.
    #[test]
    fn overlapping_windows_merge() {
        let w = schedule(&[
            window(1, 6 * 60, 60, WindowKind::AllDeployments),
            window(1, 6 * 60 + 30, 60, WindowKind::AllDeployments),
        ]);
        assert_eq!(w.longest(), Some(SimDuration(90 * M)));
        assert_eq!(left(&w, 6 * H + 15 * M), Some(75 * M));
        assert_eq!(
            w.next_fit(SimTime(0), SimDuration(80 * M)),
            Some(SimTime(6 * H)),
            "an 80-minute update fits the merged window"
        );
        // Windows that only touch stay two windows.
        let w = schedule(&[daily(6, 1), daily(7, 1)]);
        assert_eq!(w.longest(), Some(SimDuration::from_hours(1)));
        assert_eq!(left(&w, 6 * H + 30 * M), Some(30 * M));
        assert_eq!(left(&w, 7 * H), Some(H));
    }

    /// A daily window across midnight merges with one just after it; at
    /// the week's end the Sunday window runs into Monday's.
    #[test]
    fn windows_merge_across_midnight_and_the_week_end() {
        let w = schedule(&[daily(23, 2), window(1, 30, 60, WindowKind::AllDeployments)]);
        // 23:00–01:30 every night: 2.5 h.
        assert_eq!(w.longest(), Some(SimDuration(150 * M)));
        assert_eq!(left(&w, 23 * H), Some(150 * M));
        // Monday 00:45 is in the window opened Sunday 23:00 (the week before).
        assert_eq!(left(&w, 45 * M), Some(45 * M));
        assert_eq!(left(&w, 3 * DAY + 45 * M), Some(45 * M));
        // Weekly: Sunday 23:00 for 3 h and Monday 01:00 for 2 h: one window
        // Sunday 23:00 – Monday 03:00.
        let w = schedule(&[weekly(6, 23 * 60, 3 * 60), weekly(0, 60, 2 * 60)]);
        assert_eq!(w.longest(), Some(SimDuration::from_hours(4)));
        assert_eq!(left(&w, 30 * M), Some(150 * M));
        assert_eq!(left(&w, 7 * DAY + 30 * M), Some(150 * M), "every week");
        assert_eq!(
            w.next_fit(SimTime(2 * DAY), SimDuration::from_hours(4)),
            Some(SimTime(6 * DAY + 23 * H))
        );
        assert_eq!(
            w.next_opening(SimTime(30 * M)),
            Some(SimTime(6 * DAY + 23 * H))
        );
    }

    /// A weekly window over a daily one lengthens that day's window only.
    #[test]
    fn daily_and_weekly_windows_overlap() {
        // Daily 01:00–04:00; Saturday 03:00–06:00.
        let w = schedule(&[daily(1, 3), weekly(5, 3 * 60, 3 * 60)]);
        assert_eq!(w.longest(), Some(SimDuration::from_hours(5)));
        assert_eq!(left(&w, 5 * DAY + 2 * H), Some(4 * H));
        assert_eq!(left(&w, 2 * DAY + 2 * H), Some(2 * H));
        // A 4-hour update waits for Saturday 01:00; from Saturday 02:30 on,
        // for the next Saturday.
        let need = SimDuration::from_hours(4);
        assert_eq!(w.next_fit(SimTime(0), need), Some(SimTime(5 * DAY + H)));
        assert_eq!(
            w.next_fit(SimTime(5 * DAY + 2 * H + 30 * M), need),
            Some(SimTime(12 * DAY + H))
        );
    }

    /// Windows that overlap all the way round are always open.
    #[test]
    fn windows_all_round_are_always_open() {
        let w = schedule(&[daily(0, 13), daily(12, 13)]);
        assert!(!w.is_empty());
        assert_eq!(
            w.next_fit(SimTime(5 * H), SimDuration::from_hours(30)),
            Some(SimTime(5 * H))
        );
        assert_eq!(w.next_opening(SimTime(5 * H)), Some(SimTime(5 * H)));
        assert!(schedule(&[]).is_empty());
        assert_eq!(schedule(&[]).next_fit(SimTime(0), SimDuration(1)), None);
        assert_eq!(schedule(&[]).next_opening(SimTime(0)), None);
    }

    /// With both types, software updates use the software-update windows,
    /// and the all-deployments ones only if the client setting says so.
    #[test]
    fn software_update_windows_take_priority() {
        let estate = crate::scenario::parse(
            r#"Scenario(name: "w", start: "2026-11-09T00:00:00Z",
                servers: Servers(management_points: [ManagementPoint(name: "mp")],
                    update_points: [UpdatePoint(name: "sup")],
                    distribution_points: [DistributionPoint(name: "dp")]),
                cohorts: [
                    Cohort(name: "a", count: 1, management_point: "mp", update_point: "sup",
                        distribution_point: "dp", maintenance_windows: [
                            MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h"),
                            MaintenanceWindow(recurrence: Daily, start: "03:00", length: "2h",
                                applies_to: SoftwareUpdates)]),
                    Cohort(name: "b", count: 1, management_point: "mp", update_point: "sup",
                        distribution_point: "dp", maintenance_windows: [
                            MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h"),
                            MaintenanceWindow(recurrence: Daily, start: "03:00", length: "2h",
                                applies_to: SoftwareUpdates)],
                        client_settings: ClientSettings(updates_in_all_deployments_windows: true)),
                    Cohort(name: "c", count: 1, management_point: "mp", update_point: "sup",
                        distribution_point: "dp", maintenance_windows: [
                            MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")]),
                ],
                updates: [], deployments: [])"#,
            "w.ron",
        )
        .and_then(|raw| crate::scenario::build(raw, "w.ron"))
        .expect("valid");
        let of = |k: usize| {
            let cohort = &estate.cohorts[k];
            Schedule::for_updates(
                cohort,
                &estate.settings[cohort.settings.index()],
                estate.week_offset,
            )
        };
        assert_eq!(of(0).longest(), Some(SimDuration::from_hours(2)));
        assert_eq!(
            left(&of(0), 2 * H),
            None,
            "the all-deployments window is not used"
        );
        assert_eq!(
            of(1).longest(),
            Some(SimDuration::from_hours(4)),
            "merged 01:00–05:00"
        );
        assert_eq!(of(2).longest(), Some(SimDuration::from_hours(3)));
    }

    #[test]
    fn scheduled_restarts_recur() {
        // Sundays 03:00; simulated zero is Wednesday 12:00 local.
        let s = RestartScheduleSpec {
            period: SimDuration::from_days(7),
            offset: SimDuration::from_hours(6 * 24 + 3),
        };
        let offset = SimDuration::from_hours(2 * 24 + 12);
        let first = SimTime((3 * 24 + 15) * H);
        assert_eq!(next_restart(&s, offset, SimTime(0)), first);
        assert_eq!(next_restart(&s, offset, first), first);
        assert_eq!(
            next_restart(&s, offset, first + SimDuration(1)),
            first + SimDuration::from_days(7)
        );
    }
}
