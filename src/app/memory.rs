//! How much memory a run of an estate needs, estimated before it starts, so
//! that a scenario too big for the machine fails up front with the estimate
//! and the limit rather than with an out-of-memory kill.
//!
//! Owns the estimate and the comparison with what the machine has; never
//! read by the simulation. The figures are peak resident sizes measured
//! with `/usr/bin/time -v` on release builds, each rounded up: 100,000 and 400,000 clients (2 updates, 1 deployment) give
//! the per-client cost, 40 updates and 20 deployments the per-update and
//! per-deployment ones, 144,000 samples the cost of a timeline row. The
//! latency histograms (per cohort, per server, per deployment) are counted
//! apart, at their exact size: a cohort's can outweigh its clients.

use std::fmt;

use crate::check;
use crate::estate::Estate;

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
    /// Latency histograms: three per cohort and two per cohort and
    /// deployment, one per server, two per deployment, one for messages.
    pub histograms: u64,
    /// Whether `--check` state is counted.
    pub checked: bool,
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "estimate: {} clients × {} (with their updates and deployments{}) + {} samples + {} latency histograms × {}",
            self.clients,
            human_bytes(self.per_client),
            if self.checked { " and --check" } else { "" },
            self.samples,
            self.histograms,
            human_bytes(crate::model::ms_histogram_bytes())
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
    let cohorts = estate.cohorts.len() as u64;
    let servers = (estate.management_points.len()
        + estate.update_points.len()
        + estate.distribution_points.len()
        + estate.primaries.len()) as u64;
    let histograms = cohorts * (3 + 2 * deployments) + servers + 2 * deployments + 1;
    MemoryEstimate {
        bytes: BASE_BYTES
            .saturating_add(clients.saturating_mul(per_client))
            .saturating_add(samples.saturating_mul(per_sample))
            .saturating_add(histograms.saturating_mul(crate::model::ms_histogram_bytes())),
        clients,
        per_client,
        samples,
        histograms,
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

    /// Two hundred cohorts of ten clients: their latency histograms, five
    /// each with one deployment, are most of what the run needs (the
    /// million's estate at a tenth, 252 cohorts, peaks at 502 MB, of which
    /// the clients are about 130 MB).
    #[test]
    fn many_small_cohorts_count_their_histograms() {
        let names: Vec<String> = (0..200).map(|i| format!("\"c{i}\"")).collect();
        let cohorts: String = names
            .iter()
            .map(|name| {
                format!(
                    "Cohort(name: {name}, count: 10, management_point: \"mp\", \
                     update_point: \"sup\", distribution_point: \"dp\"),"
                )
            })
            .collect();
        let text = format!(
            r#"Scenario(
                name: "many", start: "2026-11-09T00:00:00Z", duration: "1d",
                servers: Servers(management_points: [ManagementPoint(name: "mp")],
                                 update_points: [UpdatePoint(name: "sup")],
                                 distribution_points: [DistributionPoint(name: "dp")]),
                cohorts: [{cohorts}],
                updates: [Update(id: "KB1", size: "10MB", release: "2026-11-09T01:00:00Z")],
                deployments: [Deployment(name: "cu", updates: ["KB1"], targets: [{}],
                                         created: "2026-11-09T02:00:00Z")],
            )"#,
            names.join(", ")
        );
        let raw = crate::scenario::parse(&text, "many.ron").expect("parses");
        let estate = crate::scenario::build(raw, "many.ron").expect("valid");
        let estimate = estimate_memory(&estate, false);
        let servers = 3 + estate.primaries.len() as u64;
        assert_eq!(estimate.histograms, 200 * 5 + servers + 2 + 1);
        let each = crate::model::ms_histogram_bytes();
        assert!((200_000..250_000).contains(&each), "{each}");
        let clients = 2_000 * estimate.per_client;
        assert!(estimate.bytes >= BASE_BYTES + clients + estimate.histograms * each);
        assert!(estimate.bytes > 200_000_000, "{estimate}");
    }

    #[test]
    fn bytes_in_words() {
        assert_eq!(human_bytes(850), "850 B");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
        assert_eq!(human_bytes(46_300_000_000), "46.3 GB");
    }
}
