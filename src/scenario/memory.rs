//! How much memory a run of an estate needs, estimated before it starts, so
//! that a scenario too big for the machine fails up front with the estimate
//! and the limit rather than with an out-of-memory kill.
//!
//! Owns the estimate only; the CLI reads the machine's available memory
//! (never the simulation). The figures are peak resident sizes measured
//! with `/usr/bin/time -v` on release builds (README, "Development"), each
//! rounded up: 100,000 and 400,000 clients (2 updates, 1 deployment) give
//! the per-client cost, 40 updates and 20 deployments the per-update and
//! per-deployment ones, 144,000 samples the cost of a timeline row.

use std::fmt;

use crate::check;
use crate::model::Estate;

/// Fixed cost: the program, the scenario, the output writers.
pub const BASE_BYTES: u64 = 8 << 20;
/// Per client: its state, its random stream, its pending events.
pub const BYTES_PER_CLIENT: u64 = 850;
/// Per client and update: true, reported and sent state.
pub const BYTES_PER_CLIENT_UPDATE: u64 = 4;
/// Per client and deployment: its assignment and cached states.
pub const BYTES_PER_CLIENT_DEPLOYMENT: u64 = 240;
/// Per sample and deployment: the timeline row, its CSV line, its charts.
pub const BYTES_PER_DEPLOYMENT_ROW: u64 = 512;
/// Per sample and update: the per-update timeline row and its CSV line.
pub const BYTES_PER_UPDATE_ROW: u64 = 128;

/// What a run needs, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Estimated peak bytes.
    pub bytes: u64,
    /// Clients in the estate.
    pub clients: u64,
    /// Bytes per client, updates and deployments included.
    pub per_client: u64,
    /// Timeline samples.
    pub samples: u64,
    /// Whether `--check` state is counted.
    pub checked: bool,
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "estimate: {} clients × {} (with their updates and deployments{}) + {} samples",
            self.clients,
            human_bytes(self.per_client),
            if self.checked { " and --check" } else { "" },
            self.samples
        )
    }
}

/// The memory a run of `estate` needs; `checked`: with `--check`.
pub fn estimate_memory(estate: &Estate, checked: bool) -> MemoryEstimate {
    let clients = u64::from(estate.client_count());
    let updates = estate.updates.len() as u64;
    let deployments = estate.deployments.len() as u64;
    let mut per_client = BYTES_PER_CLIENT
        + BYTES_PER_CLIENT_UPDATE * updates
        + BYTES_PER_CLIENT_DEPLOYMENT * deployments;
    if checked {
        per_client += check::BYTES_PER_CLIENT + check::BYTES_PER_CLIENT_DEPLOYMENT * deployments;
    }
    let samples = estate.duration.as_ms() / estate.sample_interval.as_ms().max(1) + 1;
    let per_sample = BYTES_PER_DEPLOYMENT_ROW * deployments + BYTES_PER_UPDATE_ROW * updates;
    MemoryEstimate {
        bytes: BASE_BYTES
            .saturating_add(clients.saturating_mul(per_client))
            .saturating_add(samples.saturating_mul(per_sample)),
        clients,
        per_client,
        samples,
        checked,
    }
}

/// Bytes in words: `850 B`, `12.4 MB`, `46.3 GB` (powers of 1000).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
    ];
    for (size, unit) in UNITS {
        if bytes >= size {
            return format!("{:.1} {unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_in_words() {
        assert_eq!(human_bytes(850), "850 B");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
        assert_eq!(human_bytes(46_300_000_000), "46.3 GB");
    }
}
