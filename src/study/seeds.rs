//! Replication seeds: common random numbers across the points of a study.
//!
//! Owns the one rule that turns the scenario's seed and a replication number
//! into the seed of a run. It depends on nothing else (not on the grid point,
//! the shard or the number of workers), so replication `r` of every point
//! sees the same random streams and the differences between points are the
//! settings', not noise. Does not own the per-client streams: the engine
//! derives those from the run's seed.

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of replication `r` (0-based): output `r` of a SplitMix64
/// generator seeded with the scenario's seed, i.e.
/// `mix(scenario_seed + (r + 1) × 0x9E3779B97F4A7C15)` (wrapping).
///
/// ```
/// use patchsim::study::replication_seed;
/// // SplitMix64 seeded with 0: its first output is the reference value.
/// assert_eq!(replication_seed(0, 0), 0xE220_A839_7B1D_CDAF);
/// ```
pub fn replication_seed(scenario_seed: u64, r: u32) -> u64 {
    mix(scenario_seed.wrapping_add((u64::from(r) + 1).wrapping_mul(GOLDEN_GAMMA)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_splitmix64_reference_sequence() {
        // The first outputs of SplitMix64 seeded with 0 (Vigna's reference code).
        assert_eq!(replication_seed(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(replication_seed(0, 1), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(replication_seed(0, 2), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn depends_on_the_seed_and_the_replication_only() {
        assert_eq!(replication_seed(42, 3), replication_seed(42, 3));
        let mut seen: Vec<u64> = (0..1000).map(|r| replication_seed(42, r)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 1000, "no two replications share a seed");
        assert_ne!(replication_seed(42, 0), replication_seed(43, 0));
    }
}
