//! How much memory a run of an estate needs, estimated before it starts, so
//! that a scenario too big for the machine fails up front with the estimate
//! and the limit rather than with an out-of-memory kill.
//!
//! Owns the estimate and the comparison with what the machine has; never
//! read by the simulation. The figures are peak resident sizes measured
//! with `/usr/bin/time -v` on release builds, each rounded up: 100,000 and 400,000 clients (2 updates, 1 deployment) give
//! the per-client cost, 40 updates and 20 deployments the per-update and
//! per-deployment ones. The per-sample costs are the rows a run records
//! and the charts and report made from them (the CSV tables are written
//! to disk row by row and cost nothing): 43,201 and 172,801 samples (30
//! and 120 days at one minute) with 1 and 8 deployments, updates and
//! management points measured about 460 bytes a sample per deployment,
//! 50 per update and 410 per server; 200 deployments, 2,000 updates and
//! 100 servers at 8 samples their fixed costs (charts and report
//! sections: about 230 KB a deployment, 9 KB an update, 75 KB a
//! server). The latency histograms (per
//! cohort, per server, per deployment) are counted apart, at their exact
//! size: a cohort's can outweigh its clients.
//!
//! What a run may use is the smallest of the machine's available memory,
//! the memory limit of the process's control group (a container's, a
//! Slurm job's) and its address-space limit (`ulimit -v`): past any of
//! them an allocation fails or the kernel kills the process.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::check;
use crate::estate::Estate;

/// Fixed cost: the program, the scenario, the output writers.
pub const BASE_BYTES: u64 = 12 << 20;
/// Per client: its state, its random stream, its pending events.
pub const BYTES_PER_CLIENT: u64 = 850;
/// Per client and update: true, reported and sent state.
pub const BYTES_PER_CLIENT_UPDATE: u64 = 4;
/// State messages per client and update held at once, at worst: a scan
/// queues a detection message for every update whose state changed and an
/// install one for every update it starts, and while the state system
/// falls behind, both wait in the client's queue or in batches in transit.
pub const MESSAGES_PER_CLIENT_UPDATE: u64 = 2;
/// Per client and update: its state messages held at once.
pub const BYTES_PER_CLIENT_UPDATE_MESSAGES: u64 =
    MESSAGES_PER_CLIENT_UPDATE * std::mem::size_of::<crate::model::StateMsg>() as u64;
/// Per client and deployment that targets it: its assignment and cached
/// states.
pub const BYTES_PER_CLIENT_DEPLOYMENT: u64 = 240;
/// Per deployment, whatever the samples: its two charts' axes and
/// legends, its section of the report and of the summary.
pub const BYTES_PER_DEPLOYMENT: u64 = 256 << 10;
/// Per update, whatever the clients: its record and its lines in the
/// resolved scenario, the summary and the report.
pub const BYTES_PER_UPDATE: u64 = 10 << 10;
/// Per server (state systems, WAN links and gateways included), whatever
/// the samples: its load chart's axes and legend, its part of the report.
pub const BYTES_PER_SERVER: u64 = 96 << 10;
/// Per sample and deployment: the
/// timeline row, its two charts, their copies in the report.
pub const BYTES_PER_DEPLOYMENT_ROW: u64 = 512;
/// Per sample and update: the per-update timeline row.
pub const BYTES_PER_UPDATE_ROW: u64 = 64;
/// Per sample and server (state systems, WAN links and cloud management
/// gateways included): the load row, its chart, its copy in the report.
pub const BYTES_PER_SERVER_ROW: u64 = 448;

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
    /// Bytes per sample: the rows of every timeline, and the charts.
    pub per_sample: u64,
    /// Latency histograms: three per cohort and two per cohort a
    /// deployment targets, one per server, two per deployment, one for
    /// messages.
    pub histograms: u64,
    /// Whether `--check` state is counted.
    pub checked: bool,
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "estimate: {} clients × {} (with their updates and deployments{}) + {} samples × {} (timelines and charts) + {} latency histograms × {}",
            self.clients,
            human_bytes(self.per_client),
            if self.checked { " and --check" } else { "" },
            self.samples,
            human_bytes(self.per_sample),
            self.histograms,
            human_bytes(crate::model::MsHistogram::bytes())
        )
    }
}

/// The memory a run of `estate` needs; `checked`: with `--check`.
pub fn estimate_memory(estate: &Estate, checked: bool) -> MemoryEstimate {
    let clients = u64::from(estate.client_count());
    let updates = estate.updates.len() as u64;
    let deployments = estate.deployments.len() as u64;
    // A deployment holds its targeted clients' assignments only.
    let assigned: u64 = (estate.deployments.iter())
        .map(|d| u64::from(d.targeted(estate)))
        .sum();
    let mut per_client = BYTES_PER_CLIENT
        + (BYTES_PER_CLIENT_UPDATE + BYTES_PER_CLIENT_UPDATE_MESSAGES) * updates
        + (BYTES_PER_CLIENT_DEPLOYMENT * assigned).div_ceil(clients.max(1));
    if checked {
        per_client += check::BYTES_PER_CLIENT + check::BYTES_PER_CLIENT_DEPLOYMENT * deployments;
    }
    let samples = estate.duration.as_ms() / estate.sample_interval.as_ms().max(1) + 1;
    let cohorts = estate.cohorts.len() as u64;
    let servers = (estate.management_points.len()
        + estate.update_points.len()
        + estate.distribution_points.len()
        + estate.primaries.len()) as u64;
    // Every server has a load row a sample, the WAN links and gateways too;
    // in a hierarchy each primary has a row per deployment as well (no
    // chart).
    let loaded = servers + (estate.locations.len() + estate.gateways.len()) as u64;
    let site_rows = if estate.hierarchy {
        deployments * estate.primaries.len() as u64
    } else {
        0
    };
    let per_sample = BYTES_PER_DEPLOYMENT_ROW * deployments
        + std::mem::size_of::<crate::model::SampleRow>() as u64 * site_rows
        + BYTES_PER_UPDATE_ROW * updates
        + BYTES_PER_SERVER_ROW * loaded;
    // A histogram takes memory once it records: those of a cohort and a
    // deployment only where the deployment targets the cohort.
    let targeted: u64 = (estate.deployments.iter())
        .map(|d| d.targets.len() as u64)
        .sum();
    let histograms = 3 * cohorts + 2 * targeted + servers + 2 * deployments + 1;
    let fixed = BASE_BYTES
        + BYTES_PER_DEPLOYMENT * deployments
        + BYTES_PER_UPDATE * updates
        + BYTES_PER_SERVER * loaded;
    MemoryEstimate {
        bytes: fixed
            .saturating_add(clients.saturating_mul(per_client))
            .saturating_add(samples.saturating_mul(per_sample))
            .saturating_add(histograms.saturating_mul(crate::model::MsHistogram::bytes())),
        clients,
        per_client,
        samples,
        per_sample,
        histograms,
        checked,
    }
}

/// The memory a new run may use and which limit that is: the smallest of
/// [`memory_limits`]. `None` when none of them can be read (not Linux).
pub fn memory_limit() -> Option<(u64, &'static str)> {
    (memory_limits().into_iter())
        .min_by_key(|l| l.bytes)
        .map(|l| (l.bytes, l.name))
}

/// One limit on the memory a process may use from now on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Bytes left under it.
    pub bytes: u64,
    /// Which limit it is, in words.
    pub name: &'static str,
    /// Whether it limits address space (`RLIMIT_AS`) rather than memory
    /// in use: then what a thread reserves counts, touched or not.
    pub address_space: bool,
}

/// Every limit on the memory a new run may use, as it stands now:
/// `MemAvailable` in `/proc/meminfo`, the control group's `memory.max`
/// (cgroup v2) or `memory.limit_in_bytes` (v1), on the process's group and
/// every group above it, and what `RLIMIT_AS` leaves of the address space
/// beyond what the process maps already. Empty when none can be read (not
/// Linux).
pub fn memory_limits() -> Vec<Limit> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let memory = |(bytes, name)| Limit {
        bytes,
        name,
        address_space: false,
    };
    let mut limits = Vec::new();
    if let Some(b) = read("/proc/meminfo").and_then(|t| kib_field(&t, "MemAvailable:")) {
        limits.push(memory((b, "MemAvailable in /proc/meminfo")));
    }
    if let Some(groups) = read("/proc/self/cgroup") {
        limits.extend(
            cgroup_limits(&groups, Path::new("/sys/fs/cgroup"))
                .into_iter()
                .map(memory),
        );
    }
    if let Some(bytes) = address_space_left(read("/proc/self/status").as_deref()) {
        limits.push(Limit {
            bytes,
            name: ADDRESS_SPACE_LIMIT,
            address_space: true,
        });
    }
    limits
}

/// How the address-space limit is named in messages.
pub const ADDRESS_SPACE_LIMIT: &str = "the address-space limit RLIMIT_AS, ulimit -v";

/// The stack of each worker thread of a study, set when it is spawned (so
/// that `RUST_MIN_STACK` cannot change what is counted): what Rust gives a
/// thread by default, which every run has been measured in.
pub const WORKER_STACK_BYTES: u64 = 2 << 20;

/// The address space glibc's `malloc` reserves for a thread that
/// allocates, beyond its stack: its own arena, one heap of
/// `HEAP_MAX_SIZE` (64 MiB on 64-bit targets), mapped without access and
/// committed only as it fills. It holds memory the run would need anyway,
/// but is counted whole: a run also maps its large blocks apart, and a
/// full heap is followed by another. Only an address-space limit sees it.
/// An arena outlives its thread and is handed to the next one, so the
/// threads of successive studies in one process share them. To make one,
/// `malloc` maps twice that for a moment (to align it) and gives back the
/// rest; failing that, the thread gets no arena and maps every block
/// apart, a page or more each, which a run's many small blocks soon
/// exhaust. So the threads are started one at a time, each once it has
/// its arena, and a study with worker threads keeps one arena's worth
/// free beyond them.
pub const THREAD_ARENA_BYTES: u64 = 64 << 20;

/// The guard page, the signal stack and the thread-local storage of a
/// worker thread, rounded up.
pub const THREAD_EXTRA_BYTES: u64 = 256 << 10;

/// What each worker thread costs under `limit` beyond its run's memory.
pub fn thread_bytes(limit: &Limit) -> u64 {
    if limit.address_space {
        WORKER_STACK_BYTES + THREAD_ARENA_BYTES + THREAD_EXTRA_BYTES
    } else {
        WORKER_STACK_BYTES
    }
}

/// What `runs` runs of `run` bytes each side by side take under `limit`:
/// see [`runs_side_by_side`].
pub fn side_by_side_bytes(limit: &Limit, run: u64, runs: usize) -> u64 {
    let threads = runs.saturating_sub(1) as u64;
    let room = if threads > 0 && limit.address_space {
        THREAD_ARENA_BYTES
    } else {
        0
    };
    (run.saturating_add(thread_bytes(limit)))
        .saturating_mul(threads)
        .saturating_add(run + room)
}

/// How many runs of `run` bytes each fit side by side under every one of
/// `limits`, at most `jobs` (at least 1): the first on the calling thread,
/// in the memory `run` would check, each further one on a worker thread
/// of its own, with its [`thread_bytes`] (and under an address-space
/// limit, the room to make one more arena: see [`THREAD_ARENA_BYTES`]).
/// Also the limit that allows fewer than `jobs`, if one does. The caller
/// checks that one run fits.
pub fn runs_side_by_side(limits: &[Limit], run: u64, jobs: usize) -> (usize, Option<Limit>) {
    let mut fit = jobs.max(1);
    let mut binding = None;
    for limit in limits {
        let room = if limit.address_space {
            THREAD_ARENA_BYTES
        } else {
            0
        };
        let more = limit.bytes.saturating_sub(run + room) / (run + thread_bytes(limit)).max(1);
        let here = usize::try_from(more)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        if here < fit {
            fit = here;
            binding = Some(*limit);
        }
    }
    (fit, binding)
}

/// A `Name:   1234 kB` field of a `/proc` file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The memory limits of the control groups in `/proc/self/cgroup`
/// (`groups`), read under `root` (`/sys/fs/cgroup`): for each hierarchy
/// that limits memory, the smallest limit on the group or a group above it.
fn cgroup_limits(groups: &str, root: &Path) -> Vec<(u64, &'static str)> {
    let mut limits = Vec::new();
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (base, file, name): (PathBuf, &str, &'static str) =
            if id == "0" && controllers.is_empty() {
                (root.to_path_buf(), "memory.max", "the cgroup's memory.max")
            } else if controllers.split(',').any(|c| c == "memory") {
                (
                    root.join("memory"),
                    "memory.limit_in_bytes",
                    "the cgroup's memory.limit_in_bytes",
                )
            } else {
                continue;
            };
        let mut dir = base.join(path.trim_start_matches('/'));
        let mut smallest: Option<u64> = None;
        loop {
            // "max" (v2) or a huge number (v1) means no limit.
            if let Some(bytes) = std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
            {
                smallest = Some(smallest.map_or(bytes, |s| s.min(bytes)));
            }
            if dir == base || !dir.pop() || !dir.starts_with(&base) {
                break;
            }
        }
        if let Some(bytes) = smallest {
            limits.push((bytes, name));
        }
    }
    limits
}

/// What `RLIMIT_AS` leaves of the address space beyond what the process
/// maps already (`VmSize` in `status`, `/proc/self/status`).
fn address_space_left(status: Option<&str>) -> Option<u64> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::As).current?;
    let used = status.and_then(|t| kib_field(t, "VmSize:")).unwrap_or(0);
    Some(limit.saturating_sub(used))
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
    /// million's estate at a tenth, 252 cohorts, peaks at 348 MB, of which
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
        let each = crate::model::MsHistogram::bytes();
        assert!((100_000..125_000).contains(&each), "{each}");
        let clients = 2_000 * estimate.per_client;
        assert!(estimate.bytes >= BASE_BYTES + clients + estimate.histograms * each);
        assert!(estimate.bytes > 100_000_000, "{estimate}");
        // A deployment of half the cohorts: the other half's two
        // histograms for it stay empty and are not counted.
        let half = text.replace(&names.join(", "), &names[..100].join(", "));
        let raw = crate::scenario::parse(&half, "half.ron").expect("parses");
        let estate = crate::scenario::build(raw, "half.ron").expect("valid");
        let estimate = estimate_memory(&estate, false);
        assert_eq!(estimate.histograms, 200 * 3 + 100 * 2 + servers + 2 + 1);
        // It holds the assignments of the clients it targets only.
        assert_eq!(
            estimate.per_client,
            BYTES_PER_CLIENT
                + BYTES_PER_CLIENT_UPDATE
                + BYTES_PER_CLIENT_UPDATE_MESSAGES
                + BYTES_PER_CLIENT_DEPLOYMENT / 2
        );
    }

    /// Every server's load row and chart count per sample, a gateway's
    /// too; a timeline row of a primary is a plain row, without a chart.
    #[test]
    fn every_server_counts_per_sample() {
        let text = |gateways: &str| {
            format!(
                r#"Scenario(
                name: "servers", start: "2026-11-09T00:00:00Z", duration: "30d", sample_interval: "1m",
                servers: Servers(management_points: [ManagementPoint(name: "mp")],
                                 update_points: [UpdatePoint(name: "sup")],
                                 distribution_points: [DistributionPoint(name: "dp")]{gateways}),
                cohorts: [Cohort(name: "c", count: 10, management_point: "mp",
                                 update_point: "sup", distribution_point: "dp")],
                updates: [Update(id: "KB1", size: "10MB", release: "2026-11-09T01:00:00Z")],
                deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["c"],
                                         created: "2026-11-09T02:00:00Z")],
            )"#
            )
        };
        let estimate = |text: &str| {
            let raw = crate::scenario::parse(text, "s.ron").expect("parses");
            estimate_memory(&crate::scenario::build(raw, "s.ron").expect("valid"), false)
        };
        let plain = estimate(&text(""));
        assert_eq!(plain.samples, 30 * 1440 + 1);
        // MP, SUP, DP and the state system.
        assert_eq!(
            plain.per_sample,
            BYTES_PER_DEPLOYMENT_ROW + BYTES_PER_UPDATE_ROW + 4 * BYTES_PER_SERVER_ROW
        );
        let gateway = estimate(&text(
            r#", cloud_management_gateways: [CloudManagementGateway(name: "cmg")]"#,
        ));
        assert_eq!(
            gateway.bytes - plain.bytes,
            BYTES_PER_SERVER + plain.samples * BYTES_PER_SERVER_ROW
        );
        assert!(std::mem::size_of::<crate::model::SampleRow>() <= 128);
    }

    #[test]
    fn cgroup_limits_are_read_up_the_tree() {
        let root = tempfile::tempdir().unwrap();
        let group = root.path().join("job/step");
        std::fs::create_dir_all(&group).unwrap();
        std::fs::write(group.join("memory.max"), "max\n").unwrap();
        std::fs::write(root.path().join("job/memory.max"), "2147483648\n").unwrap();
        let v2 = cgroup_limits("0::/job/step\n", root.path());
        assert_eq!(v2, [(2_147_483_648, "the cgroup's memory.max")]);
        let v1 = root.path().join("memory/slurm");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "1000000\n").unwrap();
        let both = cgroup_limits("5:cpu,cpuacct:/slurm\n4:memory:/slurm\n", root.path());
        assert_eq!(both, [(1_000_000, "the cgroup's memory.limit_in_bytes")]);
        assert!(cgroup_limits("0::/elsewhere\n", root.path()).is_empty());
        assert_eq!(
            kib_field("MemTotal: 10 kB\nMemAvailable:  2 kB\n", "MemAvailable:"),
            Some(2048)
        );
    }

    /// Under an address-space limit each worker thread beyond the first
    /// counts its stack and its allocator arena, and room to make one;
    /// under the others only its stack. The count is the most whose
    /// `side_by_side_bytes` fit, and names the limit that binds.
    #[test]
    fn runs_fit_side_by_side_with_their_threads() {
        const MB: u64 = 1 << 20;
        let limit = |bytes, address_space| Limit {
            bytes,
            name: if address_space { "as" } else { "memory" },
            address_space,
        };
        let run = 16 * MB;
        let thread = WORKER_STACK_BYTES + THREAD_ARENA_BYTES + THREAD_EXTRA_BYTES;
        let two = run + THREAD_ARENA_BYTES + run + thread;
        assert_eq!(side_by_side_bytes(&limit(0, true), run, 1), run);
        assert_eq!(side_by_side_bytes(&limit(0, true), run, 2), two);
        assert_eq!(
            side_by_side_bytes(&limit(0, false), run, 3),
            3 * run + 2 * WORKER_STACK_BYTES
        );
        for bytes in [run, two - 1, two, two + run + thread, 10_000 * MB] {
            for address_space in [true, false] {
                let l = limit(bytes, address_space);
                let (fit, binding) = runs_side_by_side(&[l], run, 8);
                assert!(fit == 1 || side_by_side_bytes(&l, run, fit) <= bytes);
                if fit < 8 {
                    assert!(side_by_side_bytes(&l, run, fit + 1) > bytes);
                    assert_eq!(binding, Some(l));
                } else {
                    assert_eq!(binding, None);
                }
            }
        }
        assert_eq!(runs_side_by_side(&[limit(two - 1, true)], run, 8).0, 1);
        assert_eq!(runs_side_by_side(&[limit(two, true)], run, 8).0, 2);
        assert_eq!(runs_side_by_side(&[limit(two, false)], run, 8).0, 8);
        // The smallest fit of all the limits; never below one.
        let (fit, binding) = runs_side_by_side(&[limit(two, false), limit(two, true)], run, 8);
        assert_eq!((fit, binding), (2, Some(limit(two, true))));
        assert_eq!(runs_side_by_side(&[limit(0, true)], run, 8).0, 1);
        assert_eq!(runs_side_by_side(&[], run, 0), (1, None));
    }

    #[test]
    fn bytes_in_words() {
        assert_eq!(human_bytes(850), "850 B");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
        assert_eq!(human_bytes(46_300_000_000), "46.3 GB");
    }
}
