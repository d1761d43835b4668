//! Studies: a scenario run over a grid of settings and many seeds,
//! summarised with confidence intervals, and split into shards for a cluster.
//!
//! Owns the shape of a study: [`plan`] checks the scenario, the `--set`
//! grid and every point before anything runs; [`run`] runs a plan (or one
//! shard of it) on worker threads; [`write()`] writes the study directory;
//! [`read`] and [`merge`] join shards back into the study an unsharded run
//! would have written, byte for byte. One file per concept: `grid.rs`
//! (`--set` paths and points), `seeds.rs` (replication seeds), `metrics.rs`
//! (the one list of metrics), `stats.rs` (mean, sd, Student's t CI, Welch's
//! difference of two means),
//! `runner.rs` (threads), `shard.rs`, `merge.rs`, `files.rs` (runs.csv,
//! points.csv, study.json), `chart.rs` (SVG), `table.rs` (printed table).
//! Prints nothing: the CLI draws the progress bar and prints the table.

mod busiest;
mod chart;
mod curves;
mod files;
mod grid;
mod merge;
mod metrics;
mod report;
mod runner;
mod seeds;
mod shard;
mod stats;
mod table;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use busiest::{RoleLoad, role_loads};
pub use chart::curve_charts;
pub use curves::{Curve, Curves, Sums};
pub use files::{STUDY_FILE, write_into};
pub use grid::{Grid, Param, apply};
pub use merge::{merge, read};
pub use metrics::{Column, Entity, METRICS, Metric, SITE, Scope, columns, locations, servers};
pub use runner::{run, run_stoppable};
pub use seeds::replication_seed;
pub use shard::Shard;
pub use stats::{Estimate, estimate, t_975, welch};
pub use table::{shard_text, shard_written_text, table_text};

use crate::app::{Limit, MemoryEstimate, estimate_memory, memory_limits, runs_side_by_side};
use crate::error::{Error, ScenarioError, StudyError};
use crate::estate::Estate;
use crate::scenario::{self, Scenario};

/// How replication seeds are derived, as written in `study.json`.
pub const SEED_DERIVATION: &str =
    "seed of replication r (0-based) = output r of SplitMix64 seeded with the scenario seed";

/// The most grid points one study may have.
pub const MAX_POINTS: usize = 100_000;

/// A checked study, ready to run: every point validated.
#[derive(Debug)]
pub struct Plan {
    /// The scenario as given (its seed is the study's).
    pub base: Estate,
    /// How the scenario file is named in messages.
    pub origin: String,
    /// The swept parameters.
    pub grid: Grid,
    /// Each point's resolved scenario, with the base seed.
    pub points: Vec<Scenario>,
    /// Each point's scenario hash (with the base seed).
    pub point_hashes: Vec<String>,
    /// Runs per point.
    pub replications: u32,
    /// The metric columns.
    pub columns: Vec<Column>,
    /// The memory the largest point's run needs, bytes (the estimate
    /// `run` checks): how many runs fit side by side.
    pub run_memory: u64,
    /// The memory limits as they stood before anything ran, which the
    /// largest run was checked against (see [`Plan::workers`]).
    pub limits: Vec<Limit>,
    /// What each point's runs measure: which cells of `runs.csv` a run of
    /// it fills.
    pub shapes: Vec<PointShape>,
    /// The warnings `validate` gives the points' scenarios, each once, in
    /// the order they first come up.
    pub warnings: Vec<PointWarning>,
}

/// A warning about some of a study's points.
#[derive(Clone, Debug, PartialEq)]
pub struct PointWarning {
    /// What `validate` says.
    pub text: String,
    /// At how many points it holds.
    pub points: usize,
    /// The first of them, as its `--set`s (empty for a study of one point).
    pub first: String,
}

impl PointWarning {
    /// The line a sweep prints: the warning, and where it holds when that
    /// is not every point.
    pub fn line(&self, all: usize) -> String {
        if self.points == all {
            format!("warning: {}", self.text)
        } else {
            format!(
                "warning (at {} of {all} points, first at {}): {}",
                self.points, self.first, self.text
            )
        }
    }
}

/// What a point's runs measure, for reading `runs.csv` back: a server
/// column is empty at a point without that server, and a deployment's
/// columns are empty in a run that never made it (a rule's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointShape {
    /// The point's servers, by name.
    pub servers: Vec<String>,
    /// Per deployment of the point, in scenario order: whether every run
    /// has it (`false`: one an automatic deployment rule makes, which a
    /// run may not).
    pub deployments: Vec<bool>,
    /// The point's locations (each with its WAN link), by name.
    pub locations: Vec<String>,
}

impl Plan {
    /// Runs in the whole study.
    pub fn run_count(&self) -> usize {
        self.points.len() * self.replications as usize
    }

    /// How many of `runs` runs go side by side when `jobs` are asked: at
    /// most one per run, and no more than fit in the memory limits the
    /// plan was checked against, each run but the first on a worker thread
    /// of its own (see [`runs_side_by_side`]). With the count, a note
    /// saying why it is fewer than `jobs`, if it is for lack of memory.
    pub fn workers(&self, jobs: usize, runs: usize) -> (usize, Option<String>) {
        let asked = jobs.clamp(1, runs.max(1));
        let (fit, limit) = runs_side_by_side(&self.limits, self.run_memory, asked);
        let note = limit
            .filter(|_| fit < asked)
            .map(|limit| fewer_jobs_note(jobs, fit, self.run_memory, &limit));
        (fit, note)
    }

    /// Numbers of the runs of `shard` (all runs without one), ascending.
    /// Run `point × replications + replication`.
    pub fn run_ids(&self, shard: Option<Shard>) -> Vec<usize> {
        (0..self.run_count())
            .filter(|&i| shard.is_none_or(|s| s.contains(i)))
            .collect()
    }
}

/// The most runs one study may have: its run numbers are listed in memory.
pub const MAX_RUNS: usize = 10_000_000;

/// The most replications per point (`--replications`).
pub const MAX_REPLICATIONS: u32 = 1_000_000;

/// Reads the scenario and checks the grid and every point of it, so that
/// an unknown path or a bad value is reported before anything runs.
pub fn plan(scenario_file: &Path, params: Vec<Param>, replications: u32) -> Result<Plan, Error> {
    let origin = scenario_file.display().to_string();
    plan_of(scenario::load(scenario_file)?, origin, params, replications)
}

/// Why a study runs fewer runs side by side than the `jobs` asked: only
/// `fit` of `run` bytes each fit under `limit`.
pub fn fewer_jobs_note(jobs: usize, fit: usize, run: u64, limit: &Limit) -> String {
    use crate::app::{human_bytes, side_by_side_bytes, thread_bytes};
    let runs = if fit == 1 {
        "1 run at a time".to_string()
    } else {
        format!("{fit} runs side by side")
    };
    let thread = if limit.address_space {
        "of address space, with its stack and allocator arena"
    } else {
        "for its stack"
    };
    format!(
        "note: running {runs}, not {jobs} (--jobs): {} side by side would need about {}, more \
         than the {} available ({}); each run needs about {}, and each beyond the first a \
         worker thread, {} more {thread}",
        fit + 1,
        human_bytes(side_by_side_bytes(limit, run, fit + 1)),
        human_bytes(limit.bytes),
        limit.name,
        human_bytes(run),
        human_bytes(thread_bytes(limit)),
    )
}

/// As [`plan`], for a parsed scenario named `origin` in messages.
pub fn plan_of(
    base_scenario: Scenario,
    origin: String,
    params: Vec<Param>,
    replications: u32,
) -> Result<Plan, Error> {
    plan_within(base_scenario, origin, params, replications, memory_limits())
}

/// As [`plan_of`], checked against `limits`, the memory limits as they
/// stood before anything ran ([`memory_limits`]): a process that runs
/// several studies in turn measures them once, since what its earlier
/// worker threads left mapped is reused by the next ones.
pub fn plan_within(
    base_scenario: Scenario,
    origin: String,
    params: Vec<Param>,
    replications: u32,
    limits: Vec<Limit>,
) -> Result<Plan, Error> {
    assert!(replications >= 1, "a study needs at least one replication");
    let base = scenario::build(base_scenario.clone(), &origin)?;
    let grid = Grid::new(params).map_err(|path| {
        StudyError::Grid(format!(
            "--set {path} is given twice; list all its values in one --set"
        ))
    })?;
    let points = grid
        .params
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()));
    if points.is_none_or(|n| n > MAX_POINTS) {
        return Err(StudyError::Grid(format!(
            "the --set lists make more than {MAX_POINTS} grid points; sweep fewer values, \
             or split the study into several sweeps"
        ))
        .into());
    }
    let runs = points.map(|n| n.saturating_mul(replications as usize));
    if runs.is_some_and(|n| n > MAX_RUNS) {
        return Err(StudyError::Grid(format!(
            "the study would have {} runs (grid points × replications); at most {MAX_RUNS} \
             are allowed: sweep fewer values or fewer replications, or split it into several \
             studies",
            runs.unwrap_or(usize::MAX)
        ))
        .into());
    }
    // Each value alone first, so an error names the one `--set` at fault.
    for p in &grid.params {
        for v in &p.values {
            apply(&base_scenario, &[(&p.path, v)]).map_err(|message| StudyError::Set {
                arg: format!("{}={v}", p.path),
                message,
            })?;
        }
    }
    let (mut points, mut point_hashes) = (Vec::new(), Vec::new());
    // Every server and location of every point, in the order they first
    // appear.
    let mut servers: Vec<(String, crate::model::ServerRole)> = Vec::new();
    let mut locations: Vec<String> = Vec::new();
    let mut largest: Option<(MemoryEstimate, String)> = None;
    let mut shapes = Vec::new();
    let mut warnings: Vec<PointWarning> = Vec::new();
    for i in 0..grid.point_count() {
        let sets = grid.assignments(i);
        let described: Vec<String> = sets.iter().map(|(p, v)| format!("{p}={v}")).collect();
        let raw = apply(&base_scenario, &sets).map_err(|message| StudyError::Set {
            arg: described.join(" "),
            message,
        })?;
        let at = if sets.is_empty() {
            origin.clone()
        } else {
            format!("{origin} with {}", described.join(", "))
        };
        let estate = scenario::build(raw.clone(), &at)?;
        // Values spelled two ways ("1d" and "24h") make one scenario twice.
        if let Some(j) = point_hashes.iter().position(|h| *h == estate.hash) {
            let twin: Vec<String> = (grid.assignments(j).iter())
                .map(|(p, v)| format!("{p}={v}"))
                .collect();
            return Err(StudyError::Grid(format!(
                "the grid points {} and {} are the same scenario (a value given twice, spelled \
                 two ways?); list each value once",
                twin.join(" "),
                described.join(" ")
            ))
            .into());
        }
        for text in crate::app::warnings(&estate) {
            match warnings.iter_mut().find(|w| w.text == text) {
                Some(w) => w.points += 1,
                None => warnings.push(PointWarning {
                    text,
                    points: 1,
                    first: described.join(" "),
                }),
            }
        }
        let memory = estimate_memory(&estate, false);
        if largest.as_ref().is_none_or(|(m, _)| memory.bytes > m.bytes) {
            largest = Some((memory, at));
        }
        let point_servers = metrics::servers(&estate);
        shapes.push(PointShape {
            servers: point_servers.iter().map(|(n, _)| n.clone()).collect(),
            deployments: (estate.deployments.iter())
                .map(|d| d.rule.is_none())
                .collect(),
            locations: metrics::locations(&estate),
        });
        for name in metrics::locations(&estate) {
            if !locations.contains(&name) {
                locations.push(name);
            }
        }
        for (name, role) in point_servers {
            if !servers.iter().any(|(n, _)| *n == name) {
                servers.push((name, role));
            }
        }
        point_hashes.push(estate.hash);
        points.push(raw);
    }
    // One run at a time must fit, as `run` checks; more side by side only
    // as many as fit (see `workers`).
    let (memory, at) = largest.expect("a grid has at least one point");
    if let Some(limit) = limits.iter().min_by_key(|l| l.bytes)
        && memory.bytes > limit.bytes
    {
        return Err(ScenarioError::TooBig {
            file: at,
            estimate: memory,
            available: limit.bytes,
            limit: limit.name,
        }
        .into());
    }
    // By role, as `summary.json` lists them: a point's added DPs beside
    // the others.
    let rank = |role: crate::model::ServerRole| busiest::ROLES.iter().position(|(r, _)| *r == role);
    servers.sort_by_key(|(_, role)| rank(*role));
    let servers: Vec<String> = servers.into_iter().map(|(n, _)| n).collect();
    let columns = columns(&base, &servers, &locations);
    Ok(Plan {
        base,
        origin,
        grid,
        points,
        point_hashes,
        replications,
        columns,
        run_memory: memory.bytes,
        limits,
        shapes,
        warnings,
    })
}

/// One run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// Grid point.
    pub point: usize,
    /// Replication, 0-based.
    pub replication: u32,
    /// The run's seed.
    pub seed: u64,
    /// One value per metric column; `None`: not reached.
    pub values: Vec<Option<f64>>,
}

/// One grid point in `study.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointInfo {
    /// The value of each parameter, in grid order.
    pub values: Vec<String>,
    /// Hash of the point's resolved scenario (with the study's seed).
    pub scenario_hash: String,
}

/// One metric column in `study.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Header in runs.csv.
    pub column: String,
    /// Name of the metric in [`METRICS`].
    pub metric: String,
    /// Entity of the metric's scope (e.g. deployment), 0-based.
    pub entity: usize,
    /// For a WAN link's or a location's metric, the location's name
    /// (`(site)` for the clients at the site); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl ColumnInfo {
    /// The column it describes (its metric checked when the manifest was
    /// read).
    pub fn column(&self) -> Column {
        Column {
            name: self.column.clone(),
            metric: metrics::metric_index(&self.metric)
                .expect("checked when the manifest was read"),
            entity: self.entity,
            location: self.location.clone(),
        }
    }
}

/// `study.json`: what the study is, enough to merge its shards and to check
/// they belong together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always "patchsim".
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the resolved base scenario (before `--set`).
    pub scenario_hash: String,
    /// The scenario's seed, from which the replication seeds derive.
    pub seed: u64,
    /// How they derive.
    pub seed_derivation: String,
    /// The swept parameters, in `--set` order.
    pub grid: Vec<Param>,
    /// Runs per point.
    pub replications: u32,
    /// Seed of each replication, the same at every point.
    pub replication_seeds: Vec<u64>,
    /// The grid points, in order.
    pub points: Vec<PointInfo>,
    /// Runs in the whole study.
    pub runs: usize,
    /// The metric columns of runs.csv.
    pub metrics: Vec<ColumnInfo>,
    /// The shard this directory holds; `null` for a whole study.
    pub shard: Option<Shard>,
    /// The files written beside this one.
    pub files: Vec<String>,
}

/// A study in memory: whole, or one shard of one.
#[derive(Clone, Debug, PartialEq)]
pub struct Study {
    /// What it is.
    pub manifest: Manifest,
    /// Its runs, sorted by (point, replication).
    pub runs: Vec<RunRow>,
    /// The resolved base scenario, as `scenario.ron` (it reproduces the study).
    pub scenario_ron: String,
    /// The compliance curves, summed over the runs (`curves.csv`).
    pub curves: Curves,
}

impl Study {
    /// The study (or shard) made of these runs of `plan`.
    pub fn new(plan: &Plan, shard: Option<Shard>, mut runs: Vec<RunRow>) -> Study {
        runs.sort_by_key(|r| (r.point, r.replication));
        let manifest = Manifest {
            tool: "patchsim".into(),
            version: crate::VERSION.into(),
            scenario: plan.base.source.name.clone(),
            scenario_hash: plan.base.hash.clone(),
            seed: plan.base.seed,
            seed_derivation: SEED_DERIVATION.into(),
            grid: plan.grid.params.clone(),
            replications: plan.replications,
            replication_seeds: (0..plan.replications)
                .map(|r| replication_seed(plan.base.seed, r))
                .collect(),
            points: (0..plan.points.len())
                .map(|i| PointInfo {
                    values: plan.grid.point(i).iter().map(|v| v.to_string()).collect(),
                    scenario_hash: plan.point_hashes[i].clone(),
                })
                .collect(),
            runs: plan.run_count(),
            metrics: plan
                .columns
                .iter()
                .map(|c| ColumnInfo {
                    column: c.name.clone(),
                    metric: c.metric().name.to_string(),
                    entity: c.entity,
                    location: c.location.clone(),
                })
                .collect(),
            shard,
            files: Vec::new(),
        };
        Study {
            manifest,
            runs,
            scenario_ron: crate::output::scenario_ron(&plan.base),
            curves: Curves::default(),
        }
    }

    /// Whether this is a whole study rather than one shard.
    pub fn is_whole(&self) -> bool {
        self.manifest.shard.is_none()
    }

    /// The metric columns, as [`Column`]s.
    pub fn columns(&self) -> Vec<Column> {
        self.manifest
            .metrics
            .iter()
            .map(ColumnInfo::column)
            .collect()
    }

    /// The deployments, by index in scenario order, that some run of the
    /// study made: every one of the scenario's, and those of an automatic
    /// deployment rule that a run made (a run that did not make one leaves
    /// every cell of it empty, its share compliant at the end included).
    pub fn made(&self) -> Vec<usize> {
        let columns = self.columns();
        let mut made: Vec<usize> = (columns.iter().enumerate())
            .filter(|(_, c)| c.metric().scope == Scope::Deployment)
            .filter(|(i, _)| self.runs.iter().any(|r| r.values[*i].is_some()))
            .map(|(_, c)| c.entity)
            .collect();
        made.sort_unstable();
        made.dedup();
        made
    }

    /// Per column: whether the printed table, `points.csv`, the report
    /// and the charts show it: not a column of a deployment no run of the
    /// study made (`runs.csv` keeps every column, as the manifest lists
    /// them).
    pub fn shown(&self) -> Vec<bool> {
        let made = self.made();
        (self.columns().iter())
            .map(|c| c.metric().scope != Scope::Deployment || made.contains(&c.entity))
            .collect()
    }

    /// The estimate of every column at every point: `[point][column]`.
    pub fn estimates(&self) -> Vec<Vec<Estimate>> {
        let columns = self.manifest.metrics.len();
        let mut by_point: Vec<Vec<&RunRow>> = vec![Vec::new(); self.manifest.points.len()];
        for run in &self.runs {
            by_point[run.point].push(run);
        }
        by_point
            .iter()
            .map(|runs| {
                (0..columns)
                    .map(|c| estimate(runs.iter().map(|r| r.values[c])))
                    .collect()
            })
            .collect()
    }

    /// The one-line provenance every file of the study carries.
    pub fn provenance(&self) -> String {
        let m = &self.manifest;
        let mut line = format!(
            "patchsim {} scenario={} hash={} seed={}",
            m.version, m.scenario, m.scenario_hash, m.seed
        );
        if let Some(s) = m.shard {
            line.push_str(&format!(" shard={s}"));
        }
        line
    }
}
