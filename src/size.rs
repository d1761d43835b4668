//! `patchsim size`: the cheapest configuration of some knobs that meets a
//! goal, across replications.
//!
//! Owns the goals (their grammar and how a run meets them), the search
//! and the sizing's files. A configuration is one level of each knob (a
//! `--knob PATH=V1,V2,...`, values from cheapest to dearest); it costs the
//! sum of its levels. It is evaluated as a one-point study (`study::plan_of`
//! and `study::run_stoppable`: every value through the scenario's own
//! types, the replications on worker threads, the same seeds at every
//! configuration, stopped by the signal that stops a sweep), and meets the
//! goal when enough of its runs do. The search assumes that
//! more of a knob never makes things worse (monotonicity): it binary-searches
//! the last knob for each combination of the others, and a configuration
//! at or above one that passed passes, at or below one that failed fails,
//! without a run. Once a row passes nowhere, the dearest configuration
//! is run: if it fails, nothing can pass, and the search stops there. The frontier is the set of passing configurations that
//! no other passing one is at or below. Deterministic: the order of the
//! evaluations depends on nothing but the arguments.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::AtomicUsize;

use serde::Serialize;
use statrs::distribution::{Beta, ContinuousCDF};

use crate::error::{During, Error, StudyError};
use crate::estate::{Estate, Purpose};
use crate::model::ServerRole;
use crate::scenario::{Override, Scenario};
use crate::study::{self, Param};

/// Which clock a milestone goal counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// The deployment's creation.
    Creation,
    /// The deployment's deadline (Required deployments only).
    Deadline,
}

/// Where a compliance goal is measured: over each deployment's clients
/// (no `At`), in every location, or in one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum At {
    /// `at every location`: each location's clients, the site's included,
    /// on their own (the slowest location's time).
    EveryLocation,
    /// `at york`: that location's clients (`(site)`: the site's).
    Location(String),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::EveryLocation => f.write_str("every location"),
            At::Location(name) => f.write_str(name),
        }
    }
}

/// What a configuration must achieve, in every deployment or server it
/// concerns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// `95% reported within 7d of deadline`: that share of the targeted
    /// clients compliant that soon.
    Compliant {
        /// 50, 80, 95 or 99.
        pct: u32,
        /// The site database's view rather than the truth.
        reported: bool,
        /// Hours allowed.
        within_h: f64,
        /// Counted from.
        from: Clock,
        /// In every location or one, rather than over each deployment's
        /// clients.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<At>,
    },
    /// `p95 scan wait <= 10m`: the 95th percentile queue wait at every
    /// server of a role (any role: `p95 wait <= 10m`).
    Wait {
        /// The servers' role (serialised `mp`, `sup`, `dp` or
        /// `state_system`), or none for every server.
        role: Option<ServerRole>,
        /// Seconds allowed.
        max_s: f64,
    },
    /// `no rejects`: no server rejects or fails a request.
    NoRejects,
    /// `link busy <= 8h`: every WAN link (or the one of `location`) at or
    /// above the busy threshold for at most that long.
    LinkBusy {
        /// The location whose link; none for every link.
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        /// Hours allowed.
        max_h: f64,
    },
}

const GOAL_HELP: &str = "goals are written like '95% reported within 7d of deadline', \
     '99% true within 10d of creation' (either with 'at every location' or 'at LOCATION' \
     after it), 'p95 scan wait <= 10m' (scan, policy, download or state, or 'p95 wait <= 10m' \
     for every server), 'no rejects' and 'link busy <= 8h' (every WAN link, or 'at LOCATION' \
     after it)";

/// Splits `at LOCATION` (or `in ...`) off the end of a goal's words: the
/// words before it, and the location as written (`original`, the goal's
/// words before lowercasing).
fn split_at<'a>(
    words: &'a [&'a str],
    original: &[&str],
) -> Result<(&'a [&'a str], Option<At>), String> {
    let Some(i) = words.iter().position(|w| *w == "at" || *w == "in") else {
        return Ok((words, None));
    };
    let place = &words[i + 1..];
    let at = match place {
        [] => return Err("expected a location's name or 'every location' after 'at'".into()),
        ["every", "location"] | ["every", "locations"] | ["all", "locations"] => At::EveryLocation,
        _ => At::Location(original[i + 1..].join(" ")),
    };
    Ok((&words[..i], Some(at)))
}

impl FromStr for Goal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let original = s.trim().replace('≤', "<=");
        let text = original.to_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        let original: Vec<&str> = original.split_whitespace().collect();
        let bad = |why: &str| format!("goal '{s}': {why}; {GOAL_HELP}");
        if words.len() != original.len() {
            return Err(bad("not a goal"));
        }
        match words.as_slice() {
            ["no", "rejects"] | ["no", "rejected"] => Ok(Goal::NoRejects),
            ["link", "busy", rest @ ..] => {
                let (rest, at) = split_at(rest, &original[2..]).map_err(|e| bad(&e))?;
                let location = match at {
                    None => None,
                    Some(At::Location(name)) => Some(name),
                    Some(At::EveryLocation) => None,
                };
                let limit = match rest {
                    ["<=", d @ ..] => d.join(" "),
                    _ => return Err(bad("expected 'link busy <= DURATION [at LOCATION]'")),
                };
                let d: crate::scenario::Dur = limit.parse().map_err(|e: String| bad(&e))?;
                Ok(Goal::LinkBusy {
                    location,
                    max_h: d.0.as_ms() as f64 / 3_600_000.0,
                })
            }
            [p95, rest @ ..] if *p95 == "p95" => {
                let (role, rest) = match rest {
                    ["wait", rest @ ..] => (None, rest),
                    [what, "wait", rest @ ..] => {
                        let role = match *what {
                            "scan" => ServerRole::UpdatePoint,
                            "policy" => ServerRole::ManagementPoint,
                            "download" => ServerRole::DistributionPoint,
                            "state" => ServerRole::StateSystem,
                            other => return Err(bad(&format!("no wait of kind '{other}'"))),
                        };
                        (Some(role), rest)
                    }
                    _ => {
                        return Err(bad(
                            "expected 'p95 [scan|policy|download|state] wait <= DURATION'",
                        ));
                    }
                };
                let limit = match rest {
                    ["<=", d @ ..] => d.join(" "),
                    _ => return Err(bad("expected '<= DURATION' after 'wait'")),
                };
                let d: crate::scenario::Dur = limit.parse().map_err(|e: String| bad(&e))?;
                Ok(Goal::Wait {
                    role,
                    max_s: d.0.as_ms() as f64 / 1000.0,
                })
            }
            [pct, view, "within", rest @ ..] => {
                let pct: u32 = pct
                    .trim_end_matches('%')
                    .parse()
                    .map_err(|_| bad("expected a share such as 95%"))?;
                if !crate::model::THRESHOLDS.contains(&pct) {
                    return Err(bad(&format!(
                        "the share must be one of the milestones a run measures: {}",
                        crate::model::THRESHOLDS.map(|t| format!("{t}%")).join(", ")
                    )));
                }
                let reported = match *view {
                    "reported" => true,
                    "true" => false,
                    _ => return Err(bad("expected 'true' or 'reported' after the share")),
                };
                let of = rest.iter().position(|w| *w == "of").ok_or_else(|| {
                    bad("expected 'of deadline' or 'of creation' after the duration")
                })?;
                let d: crate::scenario::Dur =
                    rest[..of].join(" ").parse().map_err(|e: String| bad(&e))?;
                // `rest` starts at the fourth word.
                let (clock, at) =
                    split_at(&rest[of + 1..], &original[3 + of + 1..]).map_err(|e| bad(&e))?;
                let from = match clock {
                    ["deadline"] | ["the", "deadline"] => Clock::Deadline,
                    ["creation"] | ["the", "creation"] => Clock::Creation,
                    _ => return Err(bad("expected 'of deadline' or 'of creation'")),
                };
                Ok(Goal::Compliant {
                    pct,
                    reported,
                    within_h: d.0.as_ms() as f64 / 3_600_000.0,
                    from,
                    at,
                })
            }
            _ => Err(bad("not a goal")),
        }
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::Compliant {
                pct,
                reported,
                within_h,
                from,
                at,
            } => write!(
                f,
                "{pct}% {} within {} of {}{}",
                if *reported { "reported" } else { "true" },
                crate::output::format_duration_exact(*within_h),
                match from {
                    Clock::Creation => "creation",
                    Clock::Deadline => "deadline",
                },
                at.as_ref().map_or(String::new(), |a| format!(" at {a}"))
            ),
            Goal::Wait { role, max_s } => write!(
                f,
                "p95 {}wait <= {}",
                match role {
                    Some(ServerRole::UpdatePoint) => "scan ",
                    Some(ServerRole::ManagementPoint) => "policy ",
                    Some(ServerRole::DistributionPoint) => "download ",
                    Some(_) => "state ",
                    None => "",
                },
                crate::output::format_duration_exact(max_s / 3600.0)
            ),
            Goal::NoRejects => f.write_str("no rejects"),
            Goal::LinkBusy { location, max_h } => write!(
                f,
                "link busy <= {}{}",
                crate::output::format_duration_exact(*max_h),
                location
                    .as_ref()
                    .map_or(String::new(), |l| format!(" at {l}"))
            ),
        }
    }
}

/// One configuration evaluated.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The level of each knob (0: its first, cheapest value).
    pub levels: Vec<usize>,
    /// The value of each knob.
    pub values: Vec<String>,
    /// The sum of the levels.
    pub cost: usize,
    /// Runs.
    pub runs: u32,
    /// Runs that met every goal.
    pub met: u32,
    /// Whether it meets the goal: `met` ≥ the share asked of `runs`.
    pub pass: bool,
    /// One-sided 95 % lower confidence bound (Clopper–Pearson) on the
    /// probability that a run (a month, another seed) meets every goal.
    pub met_share_low95: f64,
    /// Per goal, the worst value over its runs: hours (milestones, null
    /// where a run never reached it; a link's busy hours), seconds (waits)
    /// or requests (rejects).
    pub worst: Vec<Option<f64>>,
    /// On the frontier.
    pub frontier: bool,
}

/// A sizing: the evaluations made, in the order made.
#[derive(Clone, Debug, Serialize)]
pub struct Sizing {
    /// Always "patchsim".
    pub tool: &'static str,
    /// Tool version.
    pub version: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the resolved scenario (with `--set`, before the knobs).
    pub scenario_hash: String,
    /// Its seed, from which the replication seeds derive.
    pub seed: u64,
    /// The goals, as given.
    pub goals: Vec<Goal>,
    /// The knobs, cheapest value first.
    pub knobs: Vec<Param>,
    /// Runs per configuration.
    pub replications: u32,
    /// The share of runs that must meet every goal.
    pub pass_share: f64,
    /// Configurations in the grid.
    pub configurations: usize,
    /// The configurations evaluated, in order; the others were inferred.
    pub evaluations: Vec<Evaluation>,
    /// The cheapest configuration that passes (index into `evaluations`).
    pub cheapest: Option<usize>,
    /// The scenario's Required deployments, by name (quoted; a rule's as
    /// "each deployment of the rule '...'"), with the hours from
    /// each one's creation to its deadline: what bounds a goal counted
    /// from creation.
    #[serde(skip)]
    pub deadlines_h: Vec<(String, f64)>,
}

/// What `patchsim size` was asked.
pub struct Request<'a> {
    /// The scenario file.
    pub scenario: &'a std::path::Path,
    /// Overrides applied first.
    pub sets: &'a [Override],
    /// The goals, all of which must be met.
    pub goals: Vec<Goal>,
    /// The knobs, values cheapest first.
    pub knobs: Vec<Param>,
    /// Runs per configuration.
    pub replications: u32,
    /// Share of the runs that must meet the goals (0–1].
    pub pass_share: f64,
    /// Worker threads.
    pub jobs: usize,
    /// Set to a signal's number to stop the search between two events of
    /// its runs (as `sweep` stops); `None`: nothing stops it.
    pub stop: Option<&'a AtomicUsize>,
    /// Told, before anything runs, why fewer runs than `jobs` will go
    /// side by side, if it is for lack of memory; and each warning
    /// `validate` gives a configuration, once, at the first configuration
    /// run that has it.
    pub note: Option<&'a dyn Fn(&str)>,
}

/// The largest grid a sizing may search.
pub const MAX_CONFIGURATIONS: usize = 100_000;

/// Runs the search; `done` is called after each configuration evaluated.
pub fn size(req: &Request<'_>, done: &(dyn Fn(&Evaluation) + Sync)) -> Result<Sizing, Error> {
    // Measured before anything runs: the worker threads of one
    // configuration leave their allocator arenas mapped for the next.
    let limits = crate::app::memory_limits();
    let bad = |m: String| Error::from(StudyError::Grid(m));
    if req.knobs.is_empty() {
        return Err(bad(
            "name at least one --knob PATH=V1,V2,... to turn, values from cheapest to dearest"
                .into(),
        ));
    }
    if req.goals.is_empty() {
        return Err(bad(format!("name at least one --goal; {GOAL_HELP}")));
    }
    if !(req.pass_share > 0.0 && req.pass_share <= 1.0) {
        return Err(bad(format!(
            "--pass-share must be above 0 and at most 1, got {}",
            req.pass_share
        )));
    }
    let origin = crate::app::origin(Some(req.scenario), req.sets);
    let base: Scenario = crate::app::read(Some(req.scenario), req.sets)?;
    let estate = crate::scenario::build(base.clone(), &origin)?;
    check_goals(&req.goals, &estate)?;
    let sizes: Vec<usize> = req.knobs.iter().map(|k| k.values.len()).collect();
    let configurations = sizes
        .iter()
        .try_fold(1usize, |n, &k| n.checked_mul(k))
        .filter(|&n| n <= MAX_CONFIGURATIONS)
        .ok_or_else(|| {
            bad(format!(
                "the knobs make more than {MAX_CONFIGURATIONS} configurations"
            ))
        })?;
    for (i, k) in req.knobs.iter().enumerate() {
        if req.knobs[..i].iter().any(|o| o.path == k.path) {
            return Err(bad(format!(
                "--knob {} is given twice; list all its values in one --knob",
                k.path
            )));
        }
    }
    // Every value alone first, so an error names the one at fault.
    for k in &req.knobs {
        for v in &k.values {
            crate::study::apply(&base, &[(&k.path, v)]).map_err(|message| StudyError::Knob {
                arg: format!("{}={v}", k.path),
                message,
            })?;
        }
    }
    let jobs = fit_jobs(req, &base, &origin, &sizes, &limits)?;
    let need = ((req.pass_share * f64::from(req.replications)).ceil() as u32).max(1);
    let mut evaluations: Vec<Evaluation> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    let mut evaluate = |levels: &[usize]| -> Result<bool, Error> {
        if let Some(p) = inferred(&evaluations, levels) {
            return Ok(p);
        }
        let params: Vec<Param> = req
            .knobs
            .iter()
            .zip(levels)
            .map(|(k, &l)| Param {
                path: k.path.clone(),
                values: vec![k.values[l].clone()],
            })
            .collect();
        let plan = study::plan_within(
            base.clone(),
            origin.clone(),
            params,
            req.replications,
            limits.clone(),
        )?;
        for w in &plan.warnings {
            if let Some(note) = req.note
                && !warned.contains(&w.text)
            {
                note(&format!("warning (first at {}): {}", w.first, w.text));
                warned.push(w.text.clone());
            }
        }
        let point = scenario_of(&base, &req.knobs, levels);
        let point_estate = crate::scenario::build(point, &origin)?;
        // No more side by side than fit for this configuration's runs.
        let (fit, _) = plan.workers(jobs, req.replications as usize);
        let result =
            study::run_stoppable(&plan, None, fit, &|| {}, req.stop).map_err(|e| match e {
                // Said of the whole search, not of this configuration alone.
                Error::Interrupted {
                    signal,
                    during: During::Study { done, .. },
                } => Error::Interrupted {
                    signal,
                    during: During::Sizing {
                        configurations: evaluations.len(),
                        runs: evaluations.len() * req.replications as usize + done,
                    },
                },
                other => other,
            })?;
        let columns = result.columns();
        let mut met = 0;
        let mut worst: Vec<Option<f64>> = vec![None; req.goals.len()];
        let mut reached = vec![true; req.goals.len()];
        for run in &result.runs {
            let mut ok = true;
            for (g, goal) in req.goals.iter().enumerate() {
                let (pass, value) = meets(goal, &point_estate, &columns, &run.values);
                ok &= pass;
                match value {
                    Some(v) => worst[g] = Some(worst[g].map_or(v, |w: f64| w.max(v))),
                    None => reached[g] = false,
                }
            }
            met += u32::from(ok);
        }
        for (g, r) in reached.iter().enumerate() {
            if !r {
                worst[g] = None;
            }
        }
        let pass = met >= need;
        let e = Evaluation {
            levels: levels.to_vec(),
            values: req
                .knobs
                .iter()
                .zip(levels)
                .map(|(k, &l)| k.values[l].clone())
                .collect(),
            cost: levels.iter().sum(),
            runs: req.replications,
            met,
            pass,
            met_share_low95: lower_bound(met, req.replications),
            worst,
            frontier: false,
        };
        done(&e);
        evaluations.push(e);
        Ok(pass)
    };
    // For each combination of the other knobs (an odometer, the first
    // knob outermost), binary-search the last knob's cheapest passing level.
    let last = sizes.len() - 1;
    let mut head = vec![0usize; last];
    let dearest: Vec<usize> = sizes.iter().map(|&n| n.saturating_sub(1)).collect();
    let mut dearest_known = false;
    'search: loop {
        let (mut lo, mut hi) = (0usize, sizes[last]);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let mut levels = head.clone();
            levels.push(mid);
            if evaluate(&levels)? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        // A row that nothing passes: the dearest configuration next (with
        // one knob, the search has just run it). Under monotonicity its
        // failure settles every configuration, so a goal nothing meets
        // costs a row's search and one run more, not a search of every
        // row; a goal the first row meets costs nothing more.
        if lo == sizes[last] && !dearest_known {
            dearest_known = true;
            if !evaluate(&dearest)? {
                break 'search;
            }
        }
        // Next combination of the other knobs.
        let mut k = last;
        loop {
            if k == 0 {
                break 'search;
            }
            k -= 1;
            head[k] += 1;
            if head[k] < sizes[k] {
                break;
            }
            head[k] = 0;
        }
    }
    Ok(finish(
        req,
        estate,
        base_seed(&base),
        configurations,
        evaluations,
    ))
}

/// Checks, before anything runs, that a run of the cheapest and of the
/// dearest configuration (every knob at its first, then at its last
/// value) fits in the memory `limits` leave, as `run` checks one (a
/// configuration the scenario's checks reject is left for the search to
/// report, should it get there); returns how many runs of the larger fit
/// side by side, at most `req.jobs`, and tells `req.note` if that is
/// fewer. Two configurations, not the grid's every one: a grid may hold
/// 100,000 and the search runs a few. Each configuration the search runs
/// is checked again before it runs, and runs with no more side by side
/// than fit.
fn fit_jobs(
    req: &Request<'_>,
    base: &Scenario,
    origin: &str,
    sizes: &[usize],
    limits: &[crate::app::Limit],
) -> Result<usize, Error> {
    let mut largest: Option<(crate::app::MemoryEstimate, Vec<usize>)> = None;
    let corners = [
        vec![0usize; sizes.len()],
        sizes.iter().map(|&n| n.saturating_sub(1)).collect(),
    ];
    for levels in corners {
        let sets: Vec<(&str, &str)> = (req.knobs.iter().zip(&levels))
            .map(|(k, &l)| (k.path.as_str(), k.values[l].as_str()))
            .collect();
        if let Ok(raw) = study::apply(base, &sets)
            && let Ok(estate) = crate::scenario::build(raw, origin)
        {
            let memory = crate::app::estimate_memory(&estate, false);
            if largest.as_ref().is_none_or(|(m, _)| memory.bytes > m.bytes) {
                largest = Some((memory, levels));
            }
        }
    }
    let Some((memory, levels)) = largest else {
        return Ok(req.jobs);
    };
    if let Some(limit) = limits.iter().min_by_key(|l| l.bytes)
        && memory.bytes > limit.bytes
    {
        let described: Vec<String> = (req.knobs.iter().zip(&levels))
            .map(|(k, &l)| format!("{}={}", k.path, k.values[l]))
            .collect();
        return Err(crate::error::ScenarioError::TooBig {
            // `origin` names the `--set`s already, if any.
            file: format!(
                "{origin}{}{}",
                if origin.contains(" with ") {
                    ", "
                } else {
                    " with "
                },
                described.join(", ")
            ),
            estimate: memory,
            available: limit.bytes,
            limit: limit.name,
        }
        .into());
    }
    let runs = req.replications as usize;
    let asked = req.jobs.clamp(1, runs.max(1));
    let (fit, limit) = crate::app::runs_side_by_side(limits, memory.bytes, asked);
    if let (Some(limit), Some(note)) = (limit, req.note)
        && fit < asked
    {
        note(&study::fewer_jobs_note(req.jobs, fit, memory.bytes, &limit));
    }
    Ok(fit)
}

fn base_seed(s: &Scenario) -> u64 {
    s.seed
}

/// The base scenario with the knobs at these levels.
fn scenario_of(base: &Scenario, knobs: &[Param], levels: &[usize]) -> Scenario {
    let sets: Vec<(&str, &str)> = knobs
        .iter()
        .zip(levels)
        .map(|(k, &l)| (k.path.as_str(), k.values[l].as_str()))
        .collect();
    crate::study::apply(base, &sets).expect("checked before the search")
}

/// Whether monotonicity settles `levels` from what was evaluated: at or
/// above a pass passes, at or below a failure fails.
fn inferred(done: &[Evaluation], levels: &[usize]) -> Option<bool> {
    let le = |a: &[usize], b: &[usize]| a.iter().zip(b).all(|(x, y)| x <= y);
    for e in done {
        if e.pass && le(&e.levels, levels) {
            return Some(true);
        }
        if !e.pass && le(levels, &e.levels) {
            return Some(false);
        }
    }
    None
}

/// Marks the frontier and the cheapest.
fn finish(
    req: &Request<'_>,
    estate: Estate,
    seed: u64,
    configurations: usize,
    mut evaluations: Vec<Evaluation>,
) -> Sizing {
    let le = |a: &[usize], b: &[usize]| a.iter().zip(b).all(|(x, y)| x <= y);
    let passing: Vec<Vec<usize>> = evaluations
        .iter()
        .filter(|e| e.pass)
        .map(|e| e.levels.clone())
        .collect();
    for e in evaluations.iter_mut().filter(|e| e.pass) {
        e.frontier = !passing.iter().any(|p| *p != e.levels && le(p, &e.levels));
    }
    let cheapest = evaluations
        .iter()
        .enumerate()
        .filter(|(_, e)| e.frontier)
        .min_by_key(|(_, e)| (e.cost, e.levels.clone()))
        .map(|(i, _)| i);
    Sizing {
        tool: "patchsim",
        version: crate::VERSION,
        scenario: estate.source.name.clone(),
        scenario_hash: estate.hash.clone(),
        seed,
        goals: req.goals.clone(),
        knobs: req.knobs.clone(),
        replications: req.replications,
        pass_share: req.pass_share,
        configurations,
        evaluations,
        cheapest,
        // A rule's deployments by the rule: which of them a run makes is
        // the run's, and they all have the same deadline.
        deadlines_h: (estate.deployments.iter())
            .filter_map(|d| {
                let name = match d.rule {
                    Some(r) => format!(
                        "each deployment of the rule '{}'",
                        estate.rules[usize::from(r)].name
                    ),
                    None => format!("'{}'", d.name),
                };
                Some((name, deadline_after_h(d)?))
            })
            .collect(),
    }
}

/// Checks that each goal concerns something the scenario has.
fn check_goals(goals: &[Goal], estate: &Estate) -> Result<(), Error> {
    for g in goals {
        if let Goal::Compliant {
            from: Clock::Deadline,
            ..
        } = g
            && !estate
                .deployments
                .iter()
                .any(|d| d.purpose == Purpose::Required)
        {
            return Err(StudyError::Grid(format!(
                "goal '{g}': the scenario has no Required deployment, so no deadline; count from creation"
            ))
            .into());
        }
        if let Goal::Compliant { .. } = g
            && estate.deployments.is_empty()
        {
            return Err(
                StudyError::Grid(format!("goal '{g}': the scenario has no deployment")).into(),
            );
        }
        let named = match g {
            Goal::Compliant { at: Some(_), .. } | Goal::LinkBusy { .. }
                if estate.locations.is_empty() =>
            {
                return Err(StudyError::Grid(format!(
                    "goal '{g}': the scenario has no locations (and so no WAN links)"
                ))
                .into());
            }
            Goal::Compliant {
                at: Some(At::Location(name)),
                ..
            } => Some((name, true)),
            Goal::LinkBusy {
                location: Some(name),
                ..
            } => Some((name, false)),
            _ => None,
        };
        if let Some((name, site)) = named {
            let known: Vec<&str> = (site.then_some(study::SITE).into_iter())
                .chain(estate.locations.iter().map(|l| l.name.as_str()))
                .collect();
            if !known.contains(&name.as_str()) {
                return Err(StudyError::Grid(format!(
                    "goal '{g}': no location named '{name}'; known: {}",
                    known.join(", ")
                ))
                .into());
            }
            if site
                && !estate
                    .deployments
                    .iter()
                    .any(|d| targets_at(estate, d, name))
            {
                return Err(StudyError::Grid(format!(
                    "goal '{g}': no deployment targets a client at '{name}'"
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// Whether deployment `spec` targets a cohort at location `name` (`(site)`:
/// at the site).
fn targets_at(estate: &Estate, spec: &crate::estate::DeploymentSpec, name: &str) -> bool {
    (spec.targets.iter()).any(|c| {
        let place = estate.cohorts[c.index()].location;
        place.map_or(study::SITE, |l| estate.locations[l.index()].name.as_str()) == name
    })
}

/// Whether one run (its metric `values` over `columns`) meets `goal`, and
/// the run's worst value for it (`None`: a milestone never reached).
fn meets(
    goal: &Goal,
    estate: &Estate,
    columns: &[study::Column],
    values: &[Option<f64>],
) -> (bool, Option<f64>) {
    let of = |name: &'static str| {
        columns
            .iter()
            .zip(values)
            .filter(move |(c, _)| c.metric().name == name)
            .map(|(c, v)| (c, *v))
    };
    match goal {
        Goal::Compliant {
            pct,
            reported,
            within_h,
            from,
            at,
        } => {
            let prefix = match at {
                None => "",
                Some(At::EveryLocation) => "slowest_location_",
                Some(At::Location(_)) => "location_",
            };
            let metric = study::METRICS
                .iter()
                .map(|m| m.name)
                .find(|n| {
                    *n == format!(
                        "{prefix}hours_to_{pct}_{}",
                        if *reported { "reported" } else { "true" }
                    )
                })
                .expect("a metric per threshold and view");
            // A deployment the run did not make (one a rule could have
            // made) has no share compliant at the end: it is left out. A
            // run that made none of those the goal concerns has nothing
            // that met it, and misses it.
            let made: Vec<usize> = (of("compliant_pct_true"))
                .filter(|(_, v)| v.is_some())
                .map(|(c, _)| c.entity)
                .collect();
            let mut worst: Option<f64> = Some(f64::NEG_INFINITY);
            let mut ok = true;
            let mut concerned = false;
            for (c, v) in of(metric).filter(|(c, _)| made.contains(&c.entity)) {
                let spec = &estate.deployments[c.entity];
                // One location's: its column, of the deployments that
                // target its clients.
                if let Some(At::Location(name)) = at
                    && (c.location.as_ref() != Some(name) || !targets_at(estate, spec, name))
                {
                    continue;
                }
                let offset = match (from, deadline_after_h(spec)) {
                    (Clock::Creation, _) => 0.0,
                    (Clock::Deadline, Some(after)) => after,
                    (Clock::Deadline, None) => continue,
                };
                concerned = true;
                match v {
                    Some(h) => {
                        let h = h - offset;
                        ok &= h <= *within_h;
                        worst = worst.map(|w| w.max(h));
                    }
                    None => {
                        ok = false;
                        worst = None;
                    }
                }
            }
            (ok && concerned, worst.filter(|w| w.is_finite()))
        }
        Goal::Wait { role, max_s } => {
            let servers = study::servers(estate);
            let role_of = |c: &study::Column| {
                let name = c.entity_name()?;
                servers.iter().find(|(n, _)| n == name).map(|(_, r)| *r)
            };
            let waits: Vec<f64> = of("queue_wait_p95_s")
                .filter(|(c, _)| role.is_none_or(|r| role_of(c) == Some(r)))
                .map(|(_, v)| v.unwrap_or(0.0))
                .collect();
            let worst = waits.iter().copied().fold(0.0, f64::max);
            (worst <= *max_s, Some(worst))
        }
        Goal::NoRejects => {
            let rejected: f64 = of("rejected").map(|(_, v)| v.unwrap_or(0.0)).sum();
            (rejected == 0.0, Some(rejected))
        }
        Goal::LinkBusy { location, max_h } => {
            let worst = of("link_hours_busy")
                .filter(|(c, _)| location.is_none() || c.location == *location)
                .map(|(_, v)| v.unwrap_or(0.0))
                .fold(0.0, f64::max);
            (worst <= *max_h, Some(worst))
        }
    }
}

/// Hours from a Required deployment's creation to its deadline (`None`
/// for an Available one). A later phase's deadline is a fixed time after
/// it begins, whenever that is in a run.
fn deadline_after_h(spec: &crate::estate::DeploymentSpec) -> Option<f64> {
    if spec.purpose != Purpose::Required {
        return None;
    }
    let after_ms = match &spec.phase {
        Some(p) => p.deadline_after.as_ms() as f64,
        None => spec.deadline.as_ms() as f64 - spec.created.as_ms() as f64,
    };
    Some(after_ms / 3.6e6)
}

/// One-sided 95 % lower Clopper–Pearson bound on a success probability
/// from `met` successes in `runs` trials.
pub fn lower_bound(met: u32, runs: u32) -> f64 {
    if met == 0 {
        return 0.0;
    }
    if met == runs {
        return 0.05f64.powf(1.0 / f64::from(runs));
    }
    Beta::new(f64::from(met), f64::from(runs - met + 1))
        .map(|b| b.inverse_cdf(0.05))
        .unwrap_or(0.0)
}

/// `size.csv`: one row per configuration evaluated, in order.
pub fn size_csv(s: &Sizing) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut header: Vec<String> = vec!["order".into()];
    header.extend(s.knobs.iter().map(|k| k.path.clone()));
    header.extend(
        [
            "cost",
            "runs",
            "met",
            "pass",
            "met_share_low95",
            "frontier",
            "cheapest",
        ]
        .map(String::from),
    );
    header.extend(s.goals.iter().map(|g| format!("worst: {g}")));
    w.write_record(&header).expect("in memory");
    for (i, e) in s.evaluations.iter().enumerate() {
        let mut row = vec![i.to_string()];
        row.extend(e.values.iter().cloned());
        row.extend([
            e.cost.to_string(),
            e.runs.to_string(),
            e.met.to_string(),
            e.pass.to_string(),
            format!("{:.4}", e.met_share_low95),
            e.frontier.to_string(),
            (s.cheapest == Some(i)).to_string(),
        ]);
        row.extend(
            e.worst
                .iter()
                .map(|v| v.map(|x| format!("{x:.4}")).unwrap_or_default()),
        );
        w.write_record(&row).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

/// The printed result: the goal, the cheapest configuration with its
/// confidence, the frontier, and how many runs the search needed.
pub fn size_text(s: &Sizing) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchsim {} · {} · seed {} · goal: {}",
        s.version,
        s.scenario,
        s.seed,
        s.goals
            .iter()
            .map(Goal::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let runs: u32 = s.evaluations.iter().map(|e| e.runs).sum();
    let _ = writeln!(
        out,
        "searched {} of {} ({}, {} each{})",
        s.evaluations.len(),
        crate::output::plural(s.configurations, "configuration"),
        crate::output::plural(runs as usize, "run"),
        crate::output::plural(s.replications as usize, "replication"),
        if s.evaluations.len() < s.configurations {
            "; the rest follow from monotonicity"
        } else {
            ""
        }
    );
    match s.cheapest {
        Some(i) => {
            let e = &s.evaluations[i];
            let _ = writeln!(
                out,
                "cheapest: {}: met in {} of {} runs (95 % confidence that at least {:.0} % of months meet it)",
                describe(s, e),
                e.met,
                e.runs,
                e.met_share_low95 * 100.0
            );
        }
        None => {
            let _ = writeln!(
                out,
                "no configuration meets the goal, not even the dearest: add dearer values to the knobs \
                 (or, if a knob's values are not in order from worst to best, run them all with \
                 `patchsim sweep`)"
            );
            // What the dearest reached, and what often bounds a time to
            // compliance whatever the servers: the deadline.
            if let Some(dearest) = s.evaluations.iter().max_by_key(|e| e.cost) {
                for (g, goal) in s.goals.iter().enumerate() {
                    // Only where a deadline falls after the time the goal
                    // allows: a deadline at creation bounds nothing.
                    let late = match goal {
                        Goal::Compliant {
                            from: Clock::Creation,
                            within_h,
                            ..
                        } => s.deadlines_h.iter().find(|(_, h)| h > within_h),
                        _ => None,
                    };
                    let deadline = late.map_or(String::new(), |(name, h)| {
                        format!(
                            "; the clients of a Required deployment install at its deadline, \
                             and {name} has its deadline {} after its creation, so a goal \
                             counted from creation that falls before it is met by no \
                             configuration: count from the deadline ('of deadline')",
                            crate::output::format_duration(*h)
                        )
                    });
                    let _ = writeln!(
                        out,
                        "the dearest, {}, reached '{goal}' in {} at worst{deadline}",
                        describe(s, dearest),
                        worst_words(goal, dearest.worst[g])
                    );
                }
            }
        }
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    let mut header: Vec<String> = s.knobs.iter().map(|k| k.path.clone()).collect();
    header.extend(["cost", "met", "≥ months (95 %)", "verdict"].map(String::from));
    header.extend(s.goals.iter().map(|g| format!("worst: {g}")));
    t.set_header(header);
    for e in &s.evaluations {
        let mut row: Vec<String> = e.values.clone();
        row.extend([
            e.cost.to_string(),
            format!("{}/{}", e.met, e.runs),
            format!("{:.0} %", e.met_share_low95 * 100.0),
            match (e.pass, e.frontier) {
                (true, true) => "meets it (frontier)".to_string(),
                (true, false) => "meets it".to_string(),
                _ => "misses".to_string(),
            },
        ]);
        row.extend((s.goals.iter().zip(&e.worst)).map(|(g, w)| worst_words(g, *w)));
        t.add_row(row);
    }
    let _ = writeln!(out, "configurations run, in order:");
    for line in t.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// A goal's worst value over a configuration's runs, in its own unit:
/// a time to compliance (`never` when a run did not get there), a queue
/// wait, or a count of rejects.
fn worst_words(goal: &Goal, worst: Option<f64>) -> String {
    match (goal, worst) {
        (Goal::Compliant { .. }, None) => "never".to_string(),
        (Goal::Compliant { .. }, Some(h)) if h < 0.0 => {
            format!("{} before", crate::output::format_duration_exact(-h))
        }
        (Goal::Compliant { .. }, Some(h)) => crate::output::format_duration_exact(h),
        (Goal::Wait { .. }, Some(s)) => crate::output::format_duration_exact(s / 3600.0),
        (Goal::NoRejects, Some(n)) => crate::output::thousands(n as u64),
        (Goal::LinkBusy { .. }, Some(h)) => crate::output::format_duration_exact(h),
        (_, None) => "—".to_string(),
    }
}

fn describe(s: &Sizing, e: &Evaluation) -> String {
    s.knobs
        .iter()
        .zip(&e.values)
        .map(|(k, v)| format!("{}={v}", k.path))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `size.html`: the goal, the cheapest configuration and every
/// configuration run, as one page.
pub fn size_html(s: &Sizing) -> String {
    let mut env = minijinja::Environment::new();
    env.add_template("size.html", include_str!("templates/size.html"))
        .expect("the template parses");
    let rows: Vec<serde_json::Value> = s
        .evaluations
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "values": e.values,
                "cost": e.cost,
                "met": e.met,
                "runs": e.runs,
                "low": format!("{:.0} %", e.met_share_low95 * 100.0),
                "pass": e.pass,
                "frontier": e.frontier,
                "cheapest": s.cheapest == Some(i),
                "worst": e.worst.iter().map(|v| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())).collect::<Vec<_>>(),
            })
        })
        .collect();
    env.get_template("size.html")
        .expect("added")
        .render(minijinja::context! {
            s => s,
            pass_percent => (s.pass_share * 100.0).round() as i64,
            searched => s.evaluations.len(),
            goals => s.goals.iter().map(Goal::to_string).collect::<Vec<_>>(),
            rows => rows,
            cheapest => s.cheapest.map(|i| describe(s, &s.evaluations[i])),
        })
        .expect("the template renders")
}

/// `size.json`.
pub fn size_json(s: &Sizing) -> String {
    let mut text = serde_json::to_string_pretty(s).expect("serializes");
    text.push('\n');
    text
}

/// Writes a sizing's files into a staging directory, in the order
/// [`size_written_text`] names them: `size.csv`, `size.html`, `size.json`
/// and `scenario.ron` (the scenario sized, with its overrides, as `estate`
/// resolves it). Returns where they will be once it is committed.
pub fn write_into(
    staging: &mut crate::output::Staging,
    s: &Sizing,
    estate: &Estate,
) -> Result<Vec<std::path::PathBuf>, Error> {
    [
        ("size.csv", size_csv(s)),
        ("size.html", size_html(s)),
        ("size.json", size_json(s)),
        ("scenario.ron", crate::output::scenario_ron(estate)),
    ]
    .into_iter()
    .map(|(name, text)| staging.write(name, text.as_bytes()))
    .collect()
}

/// The line naming a sizing's `files` (all in one directory) once they
/// are in place: `wrote a, b, c and d to DIR`.
pub fn size_written_text(files: &[std::path::PathBuf]) -> String {
    let Some(first) = files.first() else {
        return String::new();
    };
    let names: Vec<String> = (files.iter())
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    };
    format!(
        "wrote {listed} to {}\n",
        first.parent().unwrap_or(first.as_path()).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_line_names_every_file_as_before() {
        let files: Vec<std::path::PathBuf> = ["size.csv", "size.html", "size.json", "scenario.ron"]
            .map(|n| std::path::Path::new("out").join(n))
            .into();
        assert_eq!(
            size_written_text(&files),
            "wrote size.csv, size.html, size.json and scenario.ron to out\n"
        );
        assert_eq!(size_written_text(&[]), "");
    }

    /// A worst value that misses its bound by seconds never reads as the
    /// bound: the goal and its worst are shown to the second.
    #[test]
    fn a_worst_value_shows_what_the_cut_form_hides() {
        let g: Goal = "50% true within 3h 39m of creation".parse().unwrap();
        assert_eq!(g.to_string(), "50% true within 3h 39m of creation");
        assert_eq!(worst_words(&g, Some(3.66)), "3h 39m 36s");
        assert_eq!(worst_words(&g, Some(-3.66)), "3h 39m 36s before");
        let g: Goal = "50% true within 3h 39m 30s of creation".parse().unwrap();
        assert_eq!(g.to_string(), "50% true within 3h 39m 30s of creation");
        let w: Goal = "p95 wait <= 1h".parse().unwrap();
        assert_eq!(worst_words(&w, Some(4_534.0)), "1h 15m 34s");
    }

    #[test]
    fn goals_read_as_people_write_them() {
        let g: Goal = "95% reported within 7d of deadline".parse().unwrap();
        assert_eq!(
            g,
            Goal::Compliant {
                pct: 95,
                reported: true,
                within_h: 168.0,
                from: Clock::Deadline,
                at: None,
            }
        );
        let every: Goal = "95% true within 2d of deadline at every location"
            .parse()
            .unwrap();
        assert_eq!(
            every.to_string(),
            "95% true within 2d 00h of deadline at every location"
        );
        let one: Goal = "99% Reported within 1d of creation in Hull Docks"
            .parse()
            .unwrap();
        assert_eq!(
            one,
            Goal::Compliant {
                pct: 99,
                reported: true,
                within_h: 24.0,
                from: Clock::Creation,
                at: Some(At::Location("Hull Docks".into())),
            }
        );
        assert_eq!(
            "link busy <= 8h at York".parse::<Goal>().unwrap(),
            Goal::LinkBusy {
                location: Some("York".into()),
                max_h: 8.0
            }
        );
        assert_eq!(
            "Link busy ≤ 90 minutes".parse::<Goal>().unwrap(),
            Goal::LinkBusy {
                location: None,
                max_h: 1.5
            }
        );
        assert_eq!(g.to_string(), "95% reported within 7d 00h of deadline");
        let w: Goal = "p95 scan wait <= 10 minutes".parse().unwrap();
        assert_eq!(
            w,
            Goal::Wait {
                role: Some(ServerRole::UpdatePoint),
                max_s: 600.0
            }
        );
        assert_eq!("No rejects".parse::<Goal>().unwrap(), Goal::NoRejects);
        assert_eq!(
            "p95 wait ≤ 1h".parse::<Goal>().unwrap(),
            Goal::Wait {
                role: None,
                max_s: 3600.0
            }
        );
        for bad in [
            "90% true within 1d of creation",
            "95% maybe within 1d of creation",
            "95% true within soon of creation",
            "p95 lunch wait <= 1h",
            "95% true within 1d of creation at",
            "link busy for 1h",
            "fast",
        ] {
            let e = bad.parse::<Goal>().unwrap_err();
            assert!(e.contains("goals are written like"), "{bad}: {e}");
        }
    }

    #[test]
    fn clopper_pearson_bounds() {
        assert!((lower_bound(10, 10) - 0.7411).abs() < 1e-3);
        assert_eq!(lower_bound(0, 10), 0.0);
        let b = lower_bound(9, 10);
        assert!(b > 0.55 && b < 0.65, "{b}");
    }

    #[test]
    fn monotonicity_settles_what_it_can() {
        let e = |levels: Vec<usize>, pass| Evaluation {
            levels,
            values: vec![],
            cost: 0,
            runs: 1,
            met: 0,
            pass,
            met_share_low95: 0.0,
            worst: vec![],
            frontier: false,
        };
        let done = [e(vec![1, 1], true), e(vec![0, 2], false)];
        assert_eq!(inferred(&done, &[2, 1]), Some(true));
        assert_eq!(inferred(&done, &[0, 1]), Some(false));
        assert_eq!(inferred(&done, &[1, 0]), None);
    }
}
