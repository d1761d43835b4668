//! Simulated time: integer milliseconds since the start of the run.
//!
//! Owns [`SimTime`] (an instant) and [`SimDuration`] (a span). There is no
//! float time anywhere in the simulator, so two runs never disagree over a
//! rounding; knows nothing of calendars or of what is being simulated.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of simulated time, in milliseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event a run can hold.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Milliseconds since the start.
    pub fn as_ms(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Hours since the start, for display only.
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / 3_600_000.0
    }

    /// The first time strictly after `self` on the phase of `on_phase`:
    /// congruent to it modulo `period` (`on_phase` may be any such time,
    /// earlier or later than `self`).
    ///
    /// ```
    /// use patchsim::engine::{SimDuration, SimTime};
    /// let hour = SimDuration::from_ms(3_600_000);
    /// let phase = SimTime(600_000); // ten past
    /// assert_eq!(SimTime(0).next_on_phase(phase, hour), phase);
    /// assert_eq!(phase.next_on_phase(phase, hour), SimTime(4_200_000));
    /// assert_eq!(SimTime(100).next_on_phase(SimTime(7_800_000), hour), phase);
    /// ```
    #[inline]
    pub fn next_on_phase(self, on_phase: SimTime, period: SimDuration) -> SimTime {
        let (now, p, period) = (self.0, on_phase.0, period.as_ms());
        SimTime(if p == now {
            now + period
        } else if p > now {
            p - (p - now - 1) / period * period
        } else {
            p + ((now - p) / period + 1) * period
        })
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `ms` milliseconds.
    pub const fn from_ms(ms: u64) -> Self {
        SimDuration(ms)
    }
    /// A span of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1_000)
    }
    /// A span of `m` minutes.
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m * 60_000)
    }
    /// A span of `h` hours.
    pub const fn from_hours(h: u64) -> Self {
        SimDuration(h * 3_600_000)
    }
    /// A span of `d` days.
    pub const fn from_days(d: u64) -> Self {
        SimDuration(d * 86_400_000)
    }
    /// Milliseconds in this span.
    pub const fn as_ms(self) -> u64 {
        self.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.since(rhs)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for SimTime {
    /// `d+hh:mm:ss.mmm` since the start, e.g. `3+14:05:00.000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (d, rem) = (ms / 86_400_000, ms % 86_400_000);
        let (h, rem) = (rem / 3_600_000, rem % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1_000, rem % 1_000);
        write!(f, "{d}+{h:02}:{m:02}:{s:02}.{ms:03}")
    }
}

impl fmt::Display for SimDuration {
    /// The largest whole unit that divides the span: `90s`, `15m`, `7d`, `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        const UNITS: [(u64, &str); 4] = [
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1_000, "s"),
        ];
        if ms == 0 {
            return write!(f, "0s");
        }
        for (size, name) in UNITS {
            if ms % size == 0 {
                return write!(f, "{}{name}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(SimTime(5).since(SimTime(9)), SimDuration::ZERO);
        assert_eq!(SimTime(9) - SimTime(5), SimDuration(4));
    }

    #[test]
    fn display_is_readable() {
        let t = SimTime::ZERO + SimDuration::from_days(3) + SimDuration::from_mins(845);
        assert_eq!(t.to_string(), "3+14:05:00.000");
        assert_eq!(SimDuration::from_secs(90).to_string(), "90s");
        assert_eq!(SimDuration::from_mins(15).to_string(), "15m");
        assert_eq!(SimDuration::from_days(7).to_string(), "7d");
        assert_eq!(SimDuration::from_ms(1500).to_string(), "1500ms");
    }
}
