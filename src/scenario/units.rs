//! Human units in scenario files: `"15m"`, `"650MB"`, `"100Mbps"`, RFC 3339.
//!
//! Owns the string forms of durations, sizes, bandwidths, clock times and
//! timestamps, both ways: parsing (with an error that says what is allowed)
//! and printing (so a resolved scenario reads like a hand-written one).
//! Numbers are parsed exactly, without floats.

use std::fmt;

use chrono::{DateTime, FixedOffset, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::SimDuration;

/// A duration such as `"90s"`, `"15m"`, `"1h30m"`, `"7d"`, `"250ms"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

/// A size in bytes such as `"650MB"` (decimal) or `"1.5GiB"` (binary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

/// A bandwidth in bits per second such as `"100Mbps"` or `"1.5Gbps"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bandwidth(pub u64);

/// A local clock time of day such as `"08:30"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub SimDuration);

/// An RFC 3339 timestamp such as `"2026-11-10T18:00:00Z"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<FixedOffset>);

const DURATION_HELP: &str = "a duration such as \"90s\", \"15m\", \"1h30m\", \"1h 30m\", \"15 minutes\", \"7d\" (units: ms, s, m, h, d, w)";
const SIZE_HELP: &str =
    "a size such as \"650MB\" or \"1.5GiB\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)";
const BANDWIDTH_HELP: &str =
    "a bandwidth such as \"100Mbps\" or \"1.5Gbps\" (units: bps, kbps, Mbps, Gbps)";
const CLOCK_HELP: &str = "a time of day \"HH:MM\" between 00:00 and 24:00";
const TIMESTAMP_HELP: &str = "an RFC 3339 timestamp with its UTC offset, such as \"2026-11-10T18:00:00Z\" or \"2026-11-10T19:00:00+01:00\"";

/// Why a number with its unit is not a value of its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unfit {
    /// Not a number and a unit, or not a whole number of the smallest unit.
    Malformed,
    /// More than the type holds (2^64 - 1 of its smallest unit).
    TooLarge,
}

/// Splits a leading decimal number from its unit: `"1.5GB"` → (15, 1, "GB"),
/// i.e. mantissa, digits after the point, and the rest.
fn split_number(s: &str) -> Result<(u128, u32, &str), Unfit> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() || frac.len() > 9 {
        return Err(Unfit::Malformed);
    }
    let mut mantissa: u128 = 0;
    for c in int.chars().chain(frac.chars()) {
        let digit = c.to_digit(10).ok_or(Unfit::Malformed)?;
        mantissa = (mantissa.checked_mul(10))
            .and_then(|m| m.checked_add(u128::from(digit)))
            .ok_or(Unfit::TooLarge)?;
    }
    Ok((mantissa, frac.len() as u32, unit))
}

/// `mantissa / 10^scale * factor`, if it is a whole number that fits in u64.
fn scaled(mantissa: u128, scale: u32, factor: u128) -> Result<u64, Unfit> {
    let div = 10u128.pow(scale);
    let total = mantissa.checked_mul(factor).ok_or(Unfit::TooLarge)?;
    if total % div != 0 {
        return Err(Unfit::Malformed);
    }
    u64::try_from(total / div).map_err(|_| Unfit::TooLarge)
}

/// A value quoted in a message, cut after 60 characters: a value of
/// kilobytes would bury the message.
pub(crate) fn clipped(value: &str) -> String {
    match value.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

/// The message for `s`, read as a `what` and unfit for it; `help` says
/// what is expected, `most` the largest value in words.
fn unfit(what: &str, s: &str, why: Unfit, help: &str, most: &str) -> String {
    let s = clipped(s);
    match why {
        Unfit::Malformed => format!("invalid {what} \"{s}\": expected {help}"),
        Unfit::TooLarge => {
            format!("{what} \"{s}\" is out of range: a {what} is at most {most}")
        }
    }
}

impl std::str::FromStr for Dur {
    type Err = String;
    /// The compact form (`"1h30m"`, `"1.5h"`), or what people write
    /// (`"1h 30m"`, `"15 minutes"`, `"2 days"`), read by `humantime`.
    fn from_str(s: &str) -> Result<Self, String> {
        compact_duration(s).or_else(|e| {
            let Ok(d) = humantime::parse_duration(s.trim()) else {
                return Err(e);
            };
            u64::try_from(d.as_millis())
                .ok()
                .filter(|&ms| u128::from(ms) * 1_000_000 == d.as_nanos())
                .map(|ms| Dur(SimDuration(ms)))
                .ok_or(e)
        })
    }
}

/// The compact form: numbers with units, the parts adding up.
fn compact_duration(s: &str) -> Result<Dur, String> {
    let most = format!("{}d (2^64 - 1 ms)", u64::MAX / 86_400_000);
    let bad = |why| unfit("duration", s, why, DURATION_HELP, &most);
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad(Unfit::Malformed));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (mantissa, scale, after) = split_number(rest).map_err(bad)?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let factor: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => return Err(bad(Unfit::Malformed)),
        };
        let ms = scaled(mantissa, scale, factor).map_err(bad)?;
        total = total.checked_add(ms).ok_or_else(|| bad(Unfit::TooLarge))?;
        rest = next;
    }
    Ok(Dur(SimDuration(total)))
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Bytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let most = format!("{}TB (2^64 - 1 bytes)", u64::MAX / 1_000_000_000_000);
        let bad = |why| unfit("size", s, why, SIZE_HELP, &most);
        let (mantissa, scale, unit) = split_number(s.trim()).map_err(bad)?;
        // "700 MB" as well as "700MB".
        let factor: u128 = match unit.trim_start() {
            "B" => 1,
            "KB" | "kB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "TB" => 1_000_000_000_000,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "TiB" => 1 << 40,
            _ => return Err(bad(Unfit::Malformed)),
        };
        scaled(mantissa, scale, factor).map(Bytes).map_err(bad)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(
            f,
            self.0,
            &[
                (1_000_000_000_000, "TB"),
                (1_000_000_000, "GB"),
                (1_000_000, "MB"),
                (1_000, "KB"),
            ],
            "B",
        )
    }
}

impl std::str::FromStr for Bandwidth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let most = format!("{}Gbps (2^64 - 1 bps)", u64::MAX / 1_000_000_000);
        let bad = |why| {
            let bytes = if s.contains('B') {
                "; bandwidths are in bits per second (1 MB/s is 8Mbps)"
            } else {
                ""
            };
            let help = format!("{BANDWIDTH_HELP}{bytes}");
            unfit("bandwidth", s, why, &help, &most)
        };
        let (mantissa, scale, unit) = split_number(s.trim()).map_err(bad)?;
        let factor: u128 = match unit.trim_start() {
            "bps" => 1,
            "kbps" | "Kbps" => 1_000,
            "Mbps" => 1_000_000,
            "Gbps" => 1_000_000_000,
            _ => return Err(bad(Unfit::Malformed)),
        };
        scaled(mantissa, scale, factor).map(Bandwidth).map_err(bad)
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(
            f,
            self.0,
            &[
                (1_000_000_000, "Gbps"),
                (1_000_000, "Mbps"),
                (1_000, "kbps"),
            ],
            "bps",
        )
    }
}

/// Writes `value` in the largest unit that divides it exactly.
fn write_scaled(
    f: &mut fmt::Formatter<'_>,
    value: u64,
    units: &[(u64, &str)],
    base: &str,
) -> fmt::Result {
    for &(size, name) in units {
        if value != 0 && value % size == 0 {
            return write!(f, "{}{name}", value / size);
        }
    }
    write!(f, "{value}{base}")
}

impl std::str::FromStr for ClockTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid time of day \"{s}\": expected {CLOCK_HELP}");
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u64 = h.parse().map_err(|_| bad())?;
        let m: u64 = m.parse().map_err(|_| bad())?;
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(ClockTime(SimDuration::from_mins(h * 60 + m)))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mins = self.0.as_ms() / 60_000;
        write!(f, "{:02}:{:02}", mins / 60, mins % 60)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
            format!(
                "invalid timestamp \"{}\" ({e}): expected {TIMESTAMP_HELP}",
                clipped(s)
            )
        })?;
        // chrono reads second 60 as a leap second, an instant the simulated
        // clock (plain milliseconds) cannot hold apart from the next one.
        if t.nanosecond() >= 1_000_000_000 {
            return Err(format!(
                "invalid timestamp \"{}\" (a leap second): seconds go from 00 to 59; \
                 write the next second, or one before it",
                clipped(s)
            ));
        }
        // The simulated clock counts whole milliseconds: a finer instant
        // would be cut silently, and could then compare wrongly with
        // another (a deadline 0.8 ms before its creation, equal once cut).
        if t.nanosecond() % 1_000_000 != 0 {
            return Err(format!(
                "invalid timestamp \"{}\": finer than a millisecond; patchsim's clock counts \
                 whole milliseconds, so give at most three digits after the seconds' point \
                 (e.g. \"2026-11-10T09:00:00.125+01:00\")",
                clipped(s)
            ));
        }
        Ok(Timestamp(t))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl Timestamp {
    /// Milliseconds from `start` to this instant (negative if earlier).
    pub fn ms_since(&self, start: &Timestamp) -> i64 {
        (self.0 - start.0).num_milliseconds()
    }
}

/// Serde through the string form, for each unit type.
macro_rules! string_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
string_serde!(Dur, Bytes, Bandwidth, ClockTime, Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(s: &str) -> u64 {
        s.parse::<Dur>().unwrap().0.as_ms()
    }

    #[test]
    fn durations() {
        assert_eq!(dur("90s"), 90_000);
        assert_eq!(dur("15m"), 900_000);
        assert_eq!(dur("1h30m"), 5_400_000);
        assert_eq!(dur("7d"), 604_800_000);
        assert_eq!(dur("1.5h"), 5_400_000);
        assert_eq!(dur("250ms"), 250);
        assert_eq!(dur("1h 30m"), 5_400_000);
        assert_eq!(dur("15 minutes"), 900_000);
        assert_eq!(dur("2 days"), 172_800_000);
        for bad in ["", "15", "m", "15x", "1.5ms", "-3s", "1e3s"] {
            let err = bad.parse::<Dur>().unwrap_err();
            assert!(err.contains("expected a duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_and_bandwidths() {
        assert_eq!("650MB".parse::<Bytes>().unwrap().0, 650_000_000);
        assert_eq!("1.5GiB".parse::<Bytes>().unwrap().0, 3 << 29);
        assert_eq!("100Mbps".parse::<Bandwidth>().unwrap().0, 100_000_000);
        assert_eq!("1.5Gbps".parse::<Bandwidth>().unwrap().0, 1_500_000_000);
        assert!("100MBps".parse::<Bandwidth>().is_err());
        assert!("0.5B".parse::<Bytes>().is_err());
        // With a space between the number and the unit, as people write it.
        assert_eq!("700 MB".parse::<Bytes>().unwrap().0, 700_000_000);
        assert_eq!("100 Mbps".parse::<Bandwidth>().unwrap().0, 100_000_000);
        assert!("700 M B".parse::<Bytes>().is_err());
    }

    /// A value too large for its type says so and gives the largest,
    /// rather than asking for the form it already has; the largest reads.
    #[test]
    fn out_of_range_values_say_so() {
        let e = "18446744073709551615Gbps".parse::<Bandwidth>().unwrap_err();
        assert_eq!(
            e,
            "bandwidth \"18446744073709551615Gbps\" is out of range: a bandwidth is at most \
             18446744073Gbps (2^64 - 1 bps)"
        );
        assert_eq!(
            "18446744073Gbps".parse::<Bandwidth>().unwrap().0,
            18_446_744_073_000_000_000
        );
        let e = "99999999999999999999999999999999999999999999TB"
            .parse::<Bytes>()
            .unwrap_err();
        assert!(
            e.contains("is out of range: a size is at most 18446744TB"),
            "{e}"
        );
        assert!("18446744TB".parse::<Bytes>().is_ok());
        let e = "213503982335d".parse::<Dur>().unwrap_err();
        assert!(
            e.contains("is out of range: a duration is at most 213503982334d"),
            "{e}"
        );
        assert!("213503982334d".parse::<Dur>().is_ok());
        // Parts that add up past the range, too.
        let e = "213503982334d213503982334d".parse::<Dur>().unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        // A fraction of the smallest unit is malformed, not out of range.
        let e = "1.5bps".parse::<Bandwidth>().unwrap_err();
        assert!(
            e.starts_with("invalid bandwidth \"1.5bps\": expected"),
            "{e}"
        );
    }

    /// A value of kilobytes is quoted cut, in every message about it.
    #[test]
    fn long_values_are_quoted_cut() {
        let long = "9".repeat(40_000) + "x";
        let e = long.parse::<Bandwidth>().unwrap_err();
        assert!(e.len() < 300, "{} bytes", e.len());
        assert!(e.contains(&format!("\"{}…\"", "9".repeat(60))), "{e}");
        assert_eq!(clipped("short"), "short");
    }

    #[test]
    fn round_trips_through_display() {
        for s in ["90s", "15m", "7d", "1500ms"] {
            assert_eq!(s.parse::<Dur>().unwrap().to_string(), s);
        }
        assert_eq!("650MB".parse::<Bytes>().unwrap().to_string(), "650MB");
        assert_eq!("1Gbps".parse::<Bandwidth>().unwrap().to_string(), "1Gbps");
        assert_eq!("08:30".parse::<ClockTime>().unwrap().to_string(), "08:30");
        let t: Timestamp = "2026-11-10T18:00:00-05:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-10T18:00:00-05:00");
        assert!("25:00".parse::<ClockTime>().is_err());
    }

    #[test]
    fn leap_seconds_are_refused() {
        for leap in ["2026-12-31T23:59:60Z", "2026-11-09T23:59:60.500+01:00"] {
            let e = leap.parse::<Timestamp>().unwrap_err();
            assert!(e.contains("leap second"), "{leap}: {e}");
        }
        assert!("2026-12-31T23:59:59.999Z".parse::<Timestamp>().is_ok());
    }

    #[test]
    fn instants_finer_than_a_millisecond_are_refused() {
        for fine in [
            "2026-11-10T09:00:00.0009+01:00",
            "2026-11-10T09:00:00.1234Z",
        ] {
            let e = fine.parse::<Timestamp>().unwrap_err();
            assert!(e.contains("finer than a millisecond"), "{fine}: {e}");
        }
        // Trailing zeros are the same millisecond.
        assert!(
            "2026-11-10T09:00:00.125000+01:00"
                .parse::<Timestamp>()
                .is_ok()
        );
    }
}
