//! Shards: a deterministic split of a study's runs over independent jobs.
//!
//! Owns the `--shard I/N` syntax and which runs belong to which shard. Runs
//! are numbered `point × replications + replication`; shard `I` of `N` runs
//! those whose number is `I - 1` modulo `N`, so every shard gets a share of
//! every point and a job array of `N` tasks covers the study exactly once.
//! Does not own merging (`merge.rs`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, 1 to `count`.
    pub index: u32,
    /// How many shards the study is split into.
    pub count: u32,
}

impl Shard {
    /// Whether run number `run` belongs to this shard.
    pub fn contains(&self, run: usize) -> bool {
        run % self.count as usize == (self.index - 1) as usize
    }

    /// How many of runs `0..runs` this shard holds.
    pub fn runs_of(&self, runs: usize) -> usize {
        let first = (self.index - 1) as usize;
        if runs <= first {
            0
        } else {
            (runs - first).div_ceil(self.count as usize)
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "bad shard '{s}': expected I/N with 1 ≤ I ≤ N, e.g. 2/8 for the second of eight"
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (i, n) = (i.trim(), n.trim());
        // A whole number too large for a shard is told as such, not as
        // a shape the argument has.
        let number = |t: &str| -> Result<u32, String> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| {
                format!(
                    "bad shard '{s}': {t} is too large; a study splits into at most {} shards",
                    u32::MAX
                )
            })
        };
        let (index, count) = (number(i)?, number(n)?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>().unwrap().to_string(), "1/1");
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/3", "1/3/5"] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("expected I/N"), "{bad}: {e}");
        }
        let e = "18446744073709551615/18446744073709551615"
            .parse::<Shard>()
            .unwrap_err();
        assert!(
            e.contains(
                "18446744073709551615 is too large; a study splits into at most 4294967295 shards"
            ),
            "{e}"
        );
        assert!(!e.contains("1 ≤ I ≤ N"), "{e}");
    }

    #[test]
    fn shards_cover_every_run_once() {
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        for run in 0..40 {
            assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
        }
        assert!(shards[0].contains(0) && shards[1].contains(1) && shards[0].contains(3));
        for runs in 0..12 {
            for s in &shards {
                assert_eq!(
                    s.runs_of(runs),
                    (0..runs).filter(|&r| s.contains(r)).count()
                );
            }
        }
    }
}
