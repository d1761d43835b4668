//! The orchestrator: one place that wires a command's steps together.
//!
//! load (a file or the embedded default, a seed override) → build (the
//! scenario's checks, the memory estimate) → simulate (a trace file as the
//! run goes, the law checker under `--check`, Ctrl-C between two events)
//! → write (the output files). `explain` is the same run with one client
//! traced, told in words. Each step is another module's: this one only
//! calls them in order and decides what a failure leaves behind (a run
//! that is interrupted or breaks a law writes nothing). The CLI parses
//! arguments and calls these functions; nothing else calls the model's run
//! on a user's behalf.

mod memory;
mod studies;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use memory::{
    Limit, MemoryEstimate, WORKER_STACK_BYTES, estimate_memory, human_bytes, memory_limit,
    memory_limits, runs_side_by_side, side_by_side_bytes, thread_bytes,
};
pub use studies::{BeforeCommitOf, SweepRequest, merge_to_dir, size_to_dir, sweep_to_dir};

use crate::check::{LawChecker, Violation};
use crate::engine::SimTime;
use crate::error::{During, Error, ScenarioError};
use crate::estate::{DeploymentId, Estate};
use crate::model::{
    self, Compliance, Outcome, Progress, RunOptions, TraceEvent, TraceRecord, Tracer,
};
use crate::scenario::{Override, Scenario};
use crate::{output, scenario};

/// Reads a scenario (`None`: the embedded default) and applies the `--set`
/// overrides, in order (the numbers of servers last), through the
/// scenario's own types; not checked yet.
pub fn read(path: Option<&Path>, sets: &[Override]) -> Result<Scenario, Error> {
    read_with_text(path, sets).map(|(raw, _)| raw)
}

/// [`read`], with the file's text (none for the embedded default).
fn read_with_text(
    path: Option<&Path>,
    sets: &[Override],
) -> Result<(Scenario, Option<String>), Error> {
    let (mut raw, text) = match path {
        Some(p) => {
            let (raw, text) = scenario::load_text(p)?;
            (raw, Some(text))
        }
        None => (
            scenario::parse(scenario::DEFAULT_SCENARIO, &origin(None, &[]))?,
            None,
        ),
    };
    // The numbers of servers last, as `apply_sets` sets them.
    let (counts, fields): (Vec<&Override>, Vec<&Override>) = sets
        .iter()
        .partition(|s| scenario::is_server_count(&s.path));
    for set in fields.into_iter().chain(counts) {
        raw = scenario::apply_sets(&raw, &[(&set.path, &set.value)]).map_err(|message| {
            ScenarioError::Set {
                arg: set.to_string(),
                message,
            }
        })?;
    }
    Ok((raw, text))
}

/// How a scenario is named in messages: its path, or the embedded
/// default's name; with overrides, each value cut after 60 characters, as
/// every message quotes a `--set`.
pub fn origin(path: Option<&Path>, sets: &[Override]) -> String {
    let origin = match path {
        Some(p) => p.display().to_string(),
        None => scenario::DEFAULT_SCENARIO_NAME.to_string(),
    };
    if sets.is_empty() {
        origin
    } else {
        let sets: Vec<String> = (sets.iter())
            .map(|s| scenario::clipped_arg(&s.to_string()))
            .collect();
        format!("{origin} with {}", sets.join(", "))
    }
}

/// The flags that each override one field of the scenario: `--seed`
/// (`seed`) and `run --busy-above` (`busy_threshold_pct`). They are set in
/// the scenario before its checks, as a `--set` is, so the resolved
/// scenario (`scenario.ron`, the hash) records them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldFlags {
    /// `--seed`: the scenario's `seed`.
    pub seed: Option<u64>,
    /// `--busy-above`: the scenario's `busy_threshold_pct`.
    pub busy_threshold_pct: Option<u32>,
}

impl FieldFlags {
    /// Only a seed.
    pub fn seed(seed: Option<u64>) -> Self {
        FieldFlags {
            seed,
            ..FieldFlags::default()
        }
    }
}

/// Reads and checks a scenario (`None`: the embedded default), with the
/// `--set` overrides applied before the checks, then the fields `flags`
/// set. A problem of a file read without overrides names its line and
/// column.
pub fn load(path: Option<&Path>, flags: FieldFlags, sets: &[Override]) -> Result<Estate, Error> {
    let (mut raw, text) = read_with_text(path, sets)?;
    if let Some(seed) = flags.seed {
        raw.seed = seed;
    }
    if let Some(pct) = flags.busy_threshold_pct {
        raw.busy_threshold_pct = pct;
    }
    match scenario::build(raw, &origin(path, sets)) {
        Err(ScenarioError::Invalid { file, mut problems }) => {
            // Point into the file, as it was written: not after `--set`.
            if let Some(text) = text.filter(|_| sets.is_empty()) {
                scenario::locate(&text, &mut problems);
            }
            Err(ScenarioError::Invalid { file, problems }.into())
        }
        built => Ok(built?),
    }
}

/// As [`load`], and checks that a run fits in the machine's available
/// memory (`checked`: with the law checker's state too).
pub fn load_runnable(
    path: Option<&Path>,
    flags: FieldFlags,
    sets: &[Override],
    checked: bool,
) -> Result<Estate, Error> {
    let estate = load(path, flags, sets)?;
    if let Some((available, limit)) = memory_limit() {
        let estimate = estimate_memory(&estate, checked);
        if estimate.bytes > available {
            return Err(ScenarioError::TooBig {
                file: origin(path, sets),
                estimate,
                available,
                limit,
            }
            .into());
        }
    }
    Ok(estate)
}

/// What a user asked of one run besides its outputs.
#[derive(Default)]
pub struct RunRequest<'a> {
    /// Write `trace.jsonl` as the run goes: about these clients (`Some`),
    /// or every client (`None`). No trace when the outer `Option` is
    /// `None`.
    pub trace: Option<Option<Vec<u32>>>,
    /// Verify the laws while the run goes; a broken law stops the run.
    pub check: bool,
    /// Stop between two events once this holds a signal's number (0:
    /// none yet); checked again before the output is put in place.
    pub interrupt: Option<&'a AtomicUsize>,
    /// Told the counters every so many events.
    pub progress: Option<Progress<'a>>,
    /// Write into a directory that holds files patchsim did not write
    /// (`--force`): the files are moved in one by one beside them.
    pub force: bool,
    /// The scenario file, which the output must not replace.
    pub input: Option<&'a Path>,
    /// Called with the run's summary (as `summary.json` holds it) and the
    /// files once every file is written, before the output is put in place
    /// (to print the summary): its error leaves the output directory as it
    /// was.
    pub before_commit: Option<BeforeCommit<'a>>,
}

/// See [`RunRequest::before_commit`].
pub type BeforeCommit<'a> = BeforeCommitOf<'a, output::Summary>;

/// How a run ended.
#[derive(Debug)]
pub enum Ended {
    /// It reached the end of the scenario (and, if checked, kept every law).
    Completed(Box<Outcome>),
    /// The interrupt flag was raised; nothing of the run is usable.
    Interrupted(crate::engine::RunStats),
    /// A law was broken (checked runs only).
    Broken(Box<Violation>),
}

/// Runs `estate` to its end, unless interrupted or a checked law breaks,
/// with the trace records going to `trace` (if any) as well as to the
/// checker.
pub fn simulate<'a>(
    estate: &'a Estate,
    trace: Option<Tracer<'a>>,
    check: bool,
    interrupt: Option<&'a AtomicUsize>,
    progress: Option<Progress<'a>>,
) -> Ended {
    let checker = check.then(|| Rc::new(RefCell::new(LawChecker::new(estate))));
    let tracer = match (&checker, trace) {
        (None, trace) => trace,
        (Some(checker), mut user) => {
            let checker = checker.clone();
            Some(Tracer::new(
                Box::new(move |r: &TraceRecord| {
                    checker.borrow_mut().record(r);
                    if let Some(user) = &mut user {
                        user.emit(*r);
                    }
                }),
                None,
            ))
        }
    };
    let watcher = checker.clone();
    let stop = move || {
        interrupt.is_some_and(|f| f.load(Ordering::Relaxed) != 0)
            || watcher
                .as_ref()
                .is_some_and(|c| c.borrow().violation().is_some())
    };
    let options = RunOptions {
        tracer,
        progress,
        stop: Some(Box::new(stop)),
        explicit: false,
    };
    let outcome = match model::run(estate, options) {
        Ok(outcome) => outcome,
        Err(model::Stopped(stats)) => {
            let violation = checker.and_then(|c| c.borrow().violation().cloned());
            return match violation {
                Some(v) => Ended::Broken(Box::new(v)),
                None => Ended::Interrupted(stats),
            };
        }
    };
    if let Some(checker) = checker {
        let mut checker = checker.borrow_mut();
        checker.finish(&outcome);
        if let Some(v) = checker.violation() {
            return Ended::Broken(Box::new(v.clone()));
        }
    }
    Ended::Completed(Box::new(outcome))
}

/// Runs `estate` with every law checked: the outcome, or the first
/// violation.
pub fn run_checked(estate: &Estate) -> Result<Outcome, Box<Violation>> {
    match simulate(estate, None, true, None, None) {
        Ended::Completed(outcome) => Ok(*outcome),
        Ended::Broken(v) => Err(v),
        Ended::Interrupted(_) => unreachable!("no interrupt flag"),
    }
}

/// Runs `estate` and writes its files into `dir`, all at once
/// ([`output::Staging`]): `dir` is checked and locked first, the files
/// (with a trace request, `trace.jsonl` as the run goes) are written into
/// a fresh directory beside it, and that directory replaces `dir` in one
/// rename once every file is complete. A run that fails, is interrupted or
/// breaks a law writes nothing and leaves `dir` as it was. Returns the
/// outcome and the files written.
pub fn run_to_dir(
    estate: &Estate,
    dir: &Path,
    request: RunRequest<'_>,
) -> Result<(Outcome, Vec<PathBuf>), Error> {
    if let Some(Some(clients)) = &request.trace {
        check_clients(estate, "--trace-clients", clients)?;
    }
    let inputs: Vec<&Path> = request.input.into_iter().collect();
    let mut staging = output::Staging::begin(dir, output::Kind::Run, request.force, &inputs)?;
    let mut trace_file = match request.trace {
        Some(_) => Some(output::TraceFile::create(
            staging.path(),
            &staging.final_path(output::TRACE_FILE),
            estate,
        )?),
        None => None,
    };
    let ended = {
        let tracer = match (&mut trace_file, request.trace) {
            (Some(file), Some(clients)) => Some(Tracer::new(
                Box::new(|r: &TraceRecord| file.write(r)),
                clients,
            )),
            _ => None,
        };
        simulate(
            estate,
            tracer,
            request.check,
            request.interrupt,
            request.progress,
        )
    };
    // Returning early drops `staging`, which removes everything written.
    let outcome = match ended {
        Ended::Completed(outcome) => *outcome,
        Ended::Interrupted(stats) => {
            return Err(Error::Interrupted {
                signal: request
                    .interrupt
                    .map_or(0, |f| f.load(Ordering::Relaxed) as i32),
                during: During::Run {
                    at: stats.now,
                    end: estate.end(),
                },
            });
        }
        Ended::Broken(violation) => return Err(Error::Check(violation)),
    };
    let mut files = Vec::new();
    if let Some(file) = trace_file {
        file.finish()?;
        files.push(staging.adopt(output::TRACE_FILE));
    }
    let (written, summary) = output::write_run(&mut staging, estate, &outcome)?;
    files.extend(written);
    if let Some(before) = request.before_commit {
        before(&summary, &files)?;
    }
    staging.commit(request.interrupt)?;
    Ok((outcome, files))
}

/// Checks that every client a flag names is in the estate.
fn check_clients(estate: &Estate, flag: &'static str, clients: &[u32]) -> Result<(), Error> {
    match clients.iter().find(|&&c| c >= estate.client_count()) {
        Some(&client) => Err(Error::NoSuchClient {
            flag,
            client: client.to_string(),
            clients: estate.client_count(),
        }),
        None => Ok(()),
    }
}

/// What a user should know about a valid scenario before running it, one
/// sentence each: updates that can never install on a targeted cohort
/// because no maintenance window of it is long enough; a WSUS catalog
/// above Microsoft's guidance; a branch DP whose schedule never lets a
/// deployment's content through; a WsusPool whose cache alone fills its
/// memory limit; a deployment created when the run is over.
pub fn warnings(estate: &Estate) -> Vec<String> {
    // A rule's deployments share its updates, targets and settings, and a
    // run makes only some of them: one warning for the rule, not one per
    // deployment it could make.
    let first_of_rule = |d: usize| match estate.deployments[d].rule {
        Some(r) => {
            estate.rules[usize::from(r)].deployments.first() == Some(&DeploymentId(d as u16))
        }
        None => true,
    };
    let named = |d: usize| match estate.deployments[d].rule {
        Some(r) => format!(
            "the deployments of automatic deployment rule '{}'",
            estate.rules[usize::from(r)].name
        ),
        None => format!("deployment '{}'", estate.deployments[d].name),
    };
    let mut closed = Vec::new();
    for (i, d) in estate.deployments.iter().enumerate() {
        if !first_of_rule(i) {
            continue;
        }
        let mut dps: Vec<_> = (d.targets.iter())
            .filter_map(|k| estate.cohorts[k.index()].dp)
            .filter(|dp| estate.distribution_points[dp.index()].copy_plan.is_some())
            .collect();
        dps.sort_unstable();
        dps.dedup();
        for dp in dps {
            if (0..168).all(|hour| estate.copy_cap(dp, d.distribution_priority, hour) == 0) {
                closed.push(format!(
                    "the copy_schedule of distribution point '{}' is closed every hour to content of {:?} priority: the content of {} never reaches it",
                    estate.distribution_points[dp.index()].name,
                    d.distribution_priority,
                    named(i)
                ));
            }
        }
    }
    let catalog = estate
        .sync
        .catalog
        .as_ref()
        .filter(|c| c.valid_updates() >= 7000);
    let catalog = catalog.map(|c| {
        format!(
            "the WSUS catalog holds {} valid updates, above Microsoft's guidance of fewer than 7,000 (best fewer than 5,000): every scan costs the update points {:.2}x their scan times{}",
            crate::output::thousands(u64::from(c.valid_updates())),
            c.scan_cost(),
            if c.decline_superseded {
                ""
            } else {
                "; declining superseded updates (sync.catalog.decline_superseded) shrinks it"
            }
        )
    });
    // Timelines sample every interval from 0; the summary is at the end.
    let (end, every) = (estate.end().as_ms(), estate.sample_interval.as_ms());
    let hours = |ms: u64| {
        let text = format!("{:.3}", ms as f64 / 3.6e6);
        format!("{} h", text.trim_end_matches('0').trim_end_matches('.'))
    };
    let ragged = (every > 0 && end % every != 0).then(|| {
        format!(
            "the duration ({}) is not a whole number of sample intervals ({}): compliance.csv, load.csv and the charts end at {}, the summary's end-of-run figures at {}",
            hours(end),
            crate::engine::SimDuration(every),
            hours(end - end % every),
            hours(end)
        )
    });
    // A deployment created when the run is over never starts: its
    // timelines are empty and a study's milestones for it all "—".
    let after_end = (estate.deployments.iter())
        .filter(|d| d.rule.is_none() && d.phase.is_none() && d.created.as_ms() >= end)
        .map(|d| {
            format!(
                "deployment '{}' is created {} after the start, at or after the end of the run: it never starts; create it earlier or lengthen `duration`",
                d.name,
                hours(d.created.as_ms()),
            )
        })
        .collect::<Vec<_>>();
    // Nor does a fault that begins when it is over.
    let faults_after_end = (estate.faults.iter())
        .filter(|f| f.start.as_ms() >= end)
        .map(|f| {
            format!(
                "the fault of '{}' begins {} after the start, at or after the end of the run: it never happens; move it earlier or lengthen `duration`",
                estate.server_name(f.server),
                hours(f.start.as_ms()),
            )
        })
        .collect::<Vec<_>>();
    model::too_long(estate)
        .into_iter()
        .filter(|t| first_of_rule(t.deployment.index()))
        .map(|t| {
            format!(
                "update '{}' of {} needs {} (its max run time) but the longest maintenance window of cohort '{}' for software updates is {}: it never installs there",
                estate.updates[t.update.index()].id,
                named(t.deployment.index()),
                t.max_run_time,
                estate.cohorts[t.cohort.index()].name,
                t.longest_window
            )
        })
        .chain(after_end)
        .chain(faults_after_end)
        .chain(catalog)
        .chain(closed)
        .chain(ragged)
        .chain(full_pools(estate))
        .collect()
}

/// An update point whose WsusPool's cache alone fills its private memory
/// limit: every scan recycles it, and no scan is ever answered there.
fn full_pools(estate: &Estate) -> impl Iterator<Item = String> + '_ {
    estate.update_points.iter().filter_map(|sup| {
        let pool = sup.wsus_pool.filter(|p| p.cache_fills_limit())?;
        let gb = crate::output::decimal_bytes;
        Some(format!(
            "the WsusPool of update point '{}' needs {} for its metadata cache alone (with the catalog), at or above its private memory limit of {}: every scan recycles it and none is ever answered; raise the limit or set it to \"0B\" (no limit, Microsoft's advice)",
            sup.name,
            gb(pool.cache),
            gb(pool.limit.unwrap_or(0))
        ))
    })
}

/// The client that became truly compliant with deployment `deployment`
/// (by name; the scenario's first without one) last: its id, the name of
/// the deployment, when (hours after the deployment's creation) and how
/// many of its clients became compliant. Runs the scenario once, every
/// client traced; a client "not required" counts as done at once and
/// is not ranked.
pub fn slowest(estate: &Estate, deployment: Option<&str>) -> Result<Slowest, Error> {
    let d = match deployment {
        None if estate.deployments.is_empty() => {
            return Err(Error::BadExplainChoice(
                "--client slowest: the scenario has no deployment".into(),
            ));
        }
        None => 0,
        Some(name) => {
            (estate.deployments.iter().position(|x| x.name == name)).ok_or_else(|| {
                let names: Vec<&str> = estate.deployments.iter().map(|x| x.name.as_str()).collect();
                Error::BadExplainChoice(format!(
                    "--deployment '{name}': no such deployment; the scenario has: {}",
                    names.join(", ")
                ))
            })?
        }
    };
    // Each client's first truly installed instant.
    let mut installed: Vec<Option<SimTime>> = vec![None; estate.client_count() as usize];
    let tracer = Tracer::new(
        Box::new(|r: &TraceRecord| {
            if let (Some(c), TraceEvent::TrueState { deployment, to, .. }) = (r.client, r.event)
                && deployment.index() == d
                && to.state == Compliance::Installed
            {
                installed[c.index()].get_or_insert(r.time);
            }
        }),
        None,
    );
    let options = RunOptions {
        tracer: Some(tracer),
        ..RunOptions::default()
    };
    let outcome = model::run(estate, options).expect("a run without a stop hook completes");
    let name = estate.deployments[d].name.clone();
    if outcome.deployments[d].created.is_none() {
        return Err(never_created(estate, &outcome, d));
    }
    let done = installed.iter().flatten().count() as u64;
    let (client, at) = (installed.iter().enumerate())
        .filter_map(|(c, t)| Some((c as u32, (*t)?)))
        // The latest; among equals the first client.
        .max_by_key(|&(c, t)| (t, std::cmp::Reverse(c)))
        .ok_or_else(|| {
            Error::BadExplainChoice(format!(
                "--client slowest: no client of '{name}' became compliant by installing it \
                 during the run"
            ))
        })?;
    let created = outcome.deployments[d].created.unwrap_or(SimTime::ZERO);
    Ok(Slowest {
        client,
        deployment: name,
        hours: at.since(created).as_ms() as f64 / 3.6e6,
        compliant: done,
    })
}

/// Why `--client slowest --deployment` cannot rank by deployment `d`: the
/// run never created it (its rule never made it, or its phase never
/// began); which deployments of its rule or phased deployment were.
fn never_created(estate: &Estate, outcome: &Outcome, d: usize) -> Error {
    let spec = &estate.deployments[d];
    let (why, kin): (String, Vec<usize>) = match (spec.rule, &spec.phase) {
        (_, Some(phase)) => (
            format!("its phase {} never began", phase.number),
            std::iter::once(phase.first.index())
                .chain((0..estate.deployments.len()).filter(|&k| {
                    estate.deployments[k]
                        .phase
                        .as_ref()
                        .is_some_and(|p| p.first == phase.first)
                }))
                .collect(),
        ),
        (Some(rule), None) => (
            format!(
                "its automatic deployment rule '{}' did not make it",
                estate.rules[usize::from(rule)].name
            ),
            (0..estate.deployments.len())
                .filter(|&k| estate.deployments[k].rule == Some(rule))
                .collect(),
        ),
        (None, None) => unreachable!("a deployment of the scenario's own is created"),
    };
    let made: Vec<&str> = (kin.into_iter())
        .filter(|&k| outcome.deployments[k].created.is_some())
        .map(|k| estate.deployments[k].name.as_str())
        .collect();
    let made = if made.is_empty() {
        "none of its kind was".to_string()
    } else {
        format!("created were: {}", made.join(", "))
    };
    Error::BadExplainChoice(format!(
        "--deployment '{}': the deployment was never created in this run ({why} before the \
         end); {made}",
        spec.name
    ))
}

/// [`explain`] of the [`slowest`] client, after a line saying which it is.
pub fn explain_slowest(
    estate: &Estate,
    deployment: Option<&str>,
    verbose: bool,
) -> Result<String, Error> {
    let s = slowest(estate, deployment)?;
    let found = format!(
        "slowest of the {} clients that installed '{}': client {}, compliant {} after its creation\n",
        output::thousands(s.compliant),
        s.deployment,
        s.client,
        output::format_duration(s.hours)
    );
    Ok(found + &explain(estate, s.client, verbose)?)
}

/// What [`slowest`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Slowest {
    /// The client.
    pub client: u32,
    /// The deployment it was ranked by.
    pub deployment: String,
    /// Hours from the deployment's creation to its compliance.
    pub hours: f64,
    /// Clients that became compliant by installing.
    pub compliant: u64,
}

/// One client's whole story in plain words (`patchsim explain`): with
/// `verbose`, every event.
pub fn explain(estate: &Estate, client: u32, verbose: bool) -> Result<String, Error> {
    check_clients(estate, "--client", &[client])?;
    let mut records = Vec::new();
    // A recycle of a WsusPool is the site's, but it is why the client's
    // scan that fails at its instant fails: kept just before that failure.
    let mut recycle: Option<TraceRecord> = None;
    let tracer = Tracer::new(
        Box::new(|r: &TraceRecord| match r.event {
            TraceEvent::WsusRecycle { .. } => recycle = Some(*r),
            _ if r.client.is_some() => {
                if let TraceEvent::ScanFailed { .. } = r.event
                    && let Some(pool) = recycle.take().filter(|p| p.time == r.time)
                {
                    records.push(pool);
                }
                records.push(*r);
            }
            _ => {}
        }),
        Some(vec![client]),
    );
    let options = RunOptions {
        tracer: Some(tracer),
        ..RunOptions::default()
    };
    let outcome = model::run(estate, options).expect("a run without a stop hook completes");
    Ok(output::explain(estate, &outcome, client, &records, verbose))
}
