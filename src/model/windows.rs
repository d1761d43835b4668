//! Maintenance windows: when an install may start, and when the window it
//! needs next opens.
//!
//! Owns the arithmetic of recurring windows in local time (daily or weekly,
//! from the scenario start's UTC offset). An install may start at `t` only
//! if a window is open at `t` and stays open for the install's max run time.

use crate::engine::{SimDuration, SimTime};
use crate::estate::WindowSpec;

/// The earliest instant at or after `now` at which some window is open and
/// stays open for at least `need`; `None` if no window is long enough.
/// `week_offset` is the local time of simulated zero since Monday 00:00.
pub(crate) fn next_fit(
    windows: &[WindowSpec],
    week_offset: SimDuration,
    now: SimTime,
    need: SimDuration,
) -> Option<SimTime> {
    let local = (week_offset.as_ms() + now.as_ms()) as i64;
    windows
        .iter()
        .filter(|w| w.length >= need)
        .map(|w| {
            let period = w.period.as_ms() as i64;
            // The latest opening at or before `local` (perhaps before zero).
            let opened = local - (local - w.offset.as_ms() as i64).rem_euclid(period);
            let latest_start = opened + (w.length.as_ms() - need.as_ms()) as i64;
            let start_local = if local <= latest_start {
                local
            } else {
                opened + period
            };
            SimTime((start_local - week_offset.as_ms() as i64) as u64)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3_600_000;

    fn daily(start_h: u64, len_h: u64) -> WindowSpec {
        WindowSpec {
            period: SimDuration::from_days(1),
            offset: SimDuration::from_hours(start_h),
            length: SimDuration::from_hours(len_h),
        }
    }

    #[test]
    fn daily_window() {
        let w = [daily(1, 3)];
        let zero = SimDuration::ZERO;
        let need = SimDuration::from_hours(1);
        // 00:00 → opens 01:00; 02:00 → now; 03:30 → next day 01:00 (only 30 min left).
        assert_eq!(next_fit(&w, zero, SimTime(0), need), Some(SimTime(H)));
        assert_eq!(
            next_fit(&w, zero, SimTime(2 * H), need),
            Some(SimTime(2 * H))
        );
        assert_eq!(
            next_fit(&w, zero, SimTime(3 * H + H / 2), need),
            Some(SimTime(25 * H))
        );
        assert_eq!(
            next_fit(&w, zero, SimTime(3 * H), need),
            Some(SimTime(3 * H))
        );
        assert_eq!(
            next_fit(&w, zero, SimTime(0), SimDuration::from_hours(4)),
            None
        );
    }

    #[test]
    fn weekly_window_respects_week_offset() {
        // Saturday 22:00 for 4 h; simulated zero is Wednesday 12:00 local.
        let w = [WindowSpec {
            period: SimDuration::from_days(7),
            offset: SimDuration::from_hours(5 * 24 + 22),
            length: SimDuration::from_hours(4),
        }];
        let offset = SimDuration::from_hours(2 * 24 + 12);
        let t = next_fit(&w, offset, SimTime(0), SimDuration::from_hours(2)).unwrap();
        assert_eq!(t, SimTime((3 * 24 + 10) * H));
        // Sunday 00:30 local: inside the window with 1.5 h left.
        let inside = SimTime((3 * 24 + 10) * H + 150 * 60_000);
        assert_eq!(
            next_fit(&w, offset, inside, SimDuration::from_hours(1)),
            Some(inside)
        );
        let next_week = SimTime((10 * 24 + 10) * H);
        assert_eq!(
            next_fit(&w, offset, inside, SimDuration::from_hours(2)),
            Some(next_week)
        );
    }
}
