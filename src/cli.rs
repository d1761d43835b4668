//! The command line: `patchsim run`, `explain`, `validate`, `sweep`, `merge`,
//! `diff`, `size` and `completions`.
//!
//! The only place that parses arguments, draws the progress bar, catches
//! the signals that stop a command (SIGINT, SIGTERM, SIGHUP) and prints.
//! Each subcommand calls the orchestrator ([`app`]) or the study module
//! and reports; flags only override what the scenario says. Exit codes: 0
//! success, 2 bad input, 1 any other failure, 128 + n stopped by signal n
//! (130 for Ctrl-C). A reader of standard output that goes away (`| head`)
//! ends the printing quietly.

use std::io::{ErrorKind, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Error;
use crate::model::Progress;
use crate::scenario::Override;
use crate::study::{self, Param, Shard};
use crate::{app, output};

/// Exit code for bad input (a scenario that does not parse or validate).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for any other failure (e.g. an output that cannot be written,
/// a law broken under `--check`).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a command stopped by Ctrl-C (128 + SIGINT); SIGTERM
/// gives 143 and SIGHUP 129.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Deterministic simulator of a Configuration Manager software-update estate.
#[derive(Debug, Parser)]
#[command(name = "patchsim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its outputs.
    Run {
        /// Scenario file (RON). Default: the embedded scenarios/patch-tuesday.ron.
        scenario: Option<PathBuf>,
        /// Seed for every random stream (overrides the scenario's `seed`).
        #[arg(long, allow_negative_numbers = true, value_parser = crate::scenario::parse_seed)]
        seed: Option<u64>,
        /// Override one field of the scenario, e.g.
        /// 'faults[0].effect=Slow(3.0)' or servers.distribution_points.count=2;
        /// repeat for several (docs/scenario-format.md#sweep-paths---set).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Directory for compliance.csv, summary.json, scenario.ron, report.html and the charts.
        #[arg(long, short, default_value = "out")]
        out: PathBuf,
        /// The busy threshold, in percent of a server's capacity (its
        /// workers or bandwidth in use): the summary names every server
        /// at or above it, with how long it stayed there; drawn on WAN
        /// links' load charts. Overrides the scenario's
        /// `busy_threshold_pct` (default 80).
        #[arg(long, value_name = "PERCENT", allow_negative_numbers = true, value_parser = crate::scenario::parse_busy_threshold_pct)]
        busy_above: Option<u8>,
        /// Print nothing but errors; no progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Also write DIR/trace.jsonl: one line per event, in time order.
        #[arg(long)]
        trace: bool,
        /// Trace only these clients (comma-separated ids, each below the
        /// scenario's client count); implies --trace.
        #[arg(long, value_delimiter = ',')]
        trace_clients: Option<Vec<u32>>,
        /// Verify the model's laws while the run goes (docs/model.md); stop
        /// at the first violation (exit code 1) and write nothing.
        #[arg(long)]
        check: bool,
        /// Write into DIR even if it holds files patchsim did not write: the
        /// files are moved in beside them, one by one, once all are written.
        #[arg(long)]
        force: bool,
    },
    /// Tell one client's story in plain words: when it polled, scanned,
    /// downloaded, installed, restarted and reported.
    Explain {
        /// Scenario file (RON). Default: the embedded scenarios/patch-tuesday.ron.
        scenario: Option<PathBuf>,
        /// The client's id (clients are numbered from 0 across cohorts in
        /// file order), or `slowest`: the client that became compliant last
        /// (the run is made twice: once to find it, once to tell it).
        #[arg(long, value_parser = parse_client)]
        client: Client,
        /// With `--client slowest`: the deployment to rank by (its name).
        /// Default: the scenario's first.
        #[arg(long, value_name = "NAME")]
        deployment: Option<String>,
        /// Seed for every random stream (overrides the scenario's `seed`).
        #[arg(long, allow_negative_numbers = true, value_parser = crate::scenario::parse_seed)]
        seed: Option<u64>,
        /// Override one field of the scenario (as for `run`); repeat for several.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Every event, one line each, instead of the story with repeats
        /// collapsed and waits explained.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Check scenario files without running them.
    Validate {
        /// Scenario files (RON).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Override one field of each scenario (as for `run`); repeat for several.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
    },
    /// Run a scenario over a grid of settings, many seeds each, and
    /// summarise with 95 % confidence intervals.
    Sweep {
        /// Scenario file (RON).
        scenario: PathBuf,
        /// A field to sweep and its values, e.g.
        /// client_settings.policy_polling_interval=15m,30m,60m; repeat for a
        /// grid of every combination.
        #[arg(long = "set", value_name = "PATH=V1,V2,...", value_parser = parse_param)]
        set: Vec<Param>,
        /// Runs per grid point, each with its own seed.
        #[arg(long, short, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        replications: u32,
        /// Worker threads (default: the available cores).
        #[arg(long, short, value_parser = clap::value_parser!(u32).range(1..=4096))]
        jobs: Option<u32>,
        /// Run only shard I of N and write a partial study for `merge`.
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<Shard>,
        /// Directory for runs.csv, points.csv, report.html, the charts and study.json.
        #[arg(long, short)]
        out: PathBuf,
        /// Print nothing but errors; no progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Find the cheapest configuration of some knobs that meets a goal
    /// across replications, by a search that assumes more is never worse.
    Size {
        /// Scenario file (RON).
        scenario: PathBuf,
        /// What every configuration must achieve, e.g. '95% reported
        /// within 7d of deadline', 'p95 scan wait <= 10m', 'no rejects';
        /// repeat for several, all of which must be met.
        #[arg(long = "goal", required = true, value_name = "GOAL", value_parser = parse_goal)]
        goals: Vec<crate::size::Goal>,
        /// A field to turn and its values from cheapest to dearest, e.g.
        /// servers.update_points[0].scan_slots=8,16,32 or
        /// servers.distribution_points.count=1,2,3; repeat for several.
        #[arg(long = "knob", required = true, value_name = "PATH=V1,V2,...", value_parser = parse_param)]
        knobs: Vec<Param>,
        /// Override one field of the scenario first (as for `run`).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<Override>,
        /// Runs per configuration, each with its own seed (the same seeds
        /// at every configuration).
        #[arg(long, short, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        replications: u32,
        /// Share of a configuration's runs that must meet every goal: above
        /// 0 and at most 1.
        #[arg(long, default_value_t = 1.0)]
        pass_share: f64,
        /// Worker threads (default: the available cores).
        #[arg(long, short, value_parser = clap::value_parser!(u32).range(1..=4096))]
        jobs: Option<u32>,
        /// Directory for size.csv, size.html, size.json and scenario.ron (none: print only).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two runs or two studies side by side: milestones,
    /// bottlenecks, servers and totals, with 95 % intervals for studies.
    Diff {
        /// The first output directory (A).
        a: PathBuf,
        /// The second (B); differences are B − A.
        b: PathBuf,
    },
    /// Print a shell's completion script, e.g.
    /// `patchsim completions bash > ~/.local/share/bash-completion/completions/patchsim`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Join the shards of one study into the whole study.
    Merge {
        /// The shards' directories, in any order.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Directory for the whole study.
        #[arg(long, short)]
        out: PathBuf,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn parse_param(s: &str) -> Result<Param, String> {
    s.parse()
}

fn parse_goal(s: &str) -> Result<crate::size::Goal, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

fn exit_for(e: &Error) -> ExitCode {
    ExitCode::from(match e {
        Error::Interrupted { signal, .. } => 128u8.saturating_add(*signal as u8),
        e if e.is_bad_input() => EXIT_BAD_INPUT,
        _ => EXIT_FAILURE,
    })
}

/// Where a command prints. Standard output's reader may go away (`| head
/// -1`): the rest is dropped quietly, and the command ends as it would
/// have. Any other failure to write it (`>/dev/full`) is an error. A
/// failure to write standard error is ignored: there is nowhere left to
/// say it.
struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    closed: bool,
}

impl Console<'_> {
    fn print(&mut self, text: &str) -> Result<(), Error> {
        if self.closed {
            return Ok(());
        }
        match self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(source) => Err(Error::Stdout { source, out: None }),
        }
    }

    /// As [`print`](Console::print), for a command about to put its
    /// output in `out`: a failure says `out` is as it was.
    fn print_before(&mut self, text: &str, out: &Path) -> Result<(), Error> {
        self.print(text).map_err(|e| match e {
            Error::Stdout { source, .. } => Error::Stdout {
                source,
                out: Some(out.display().to_string()),
            },
            e => e,
        })
    }

    fn error(&mut self, e: &Error) -> ExitCode {
        let _ = writeln!(self.err, "error: {e}");
        exit_for(e)
    }

    fn report(&mut self, result: Result<(), Error>) -> ExitCode {
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => self.error(&e),
        }
    }
}

/// The signal that asked a command to stop, by number (0: none yet):
/// SIGINT (Ctrl-C), SIGTERM (what `kill`, Slurm and Kubernetes send) and
/// SIGHUP (a closed terminal). Caught only by the commands that write, once
/// per process; a signal that the process was started ignoring (`nohup`, a
/// shell's `&`) stays ignored.
fn stop_signals() -> &'static AtomicUsize {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        let ignored = ignored_signals();
        for signal in [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ] {
            if ignored & (1 << (signal - 1)) == 0 {
                // Should it fail, the signal keeps its default action: the
                // process ends and the next command into --out removes
                // what it left.
                let _ = signal_hook::flag::register_usize(signal, flag.clone(), signal as usize);
            }
        }
        flag
    })
}

/// The signals this process ignores, as the kernel's mask (`SigIgn` in
/// `/proc/self/status`: bit n - 1 for signal n); none where unreadable.
fn ignored_signals() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("SigIgn:"))?;
            u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
        })
        .unwrap_or(0)
}

/// Runs the parsed command line, printing on the process's standard
/// output and error.
pub fn run(cli: Cli) -> ExitCode {
    run_with(cli, &mut std::io::stdout(), &mut std::io::stderr())
}

/// Runs the parsed command line, printing on `out` and `err`.
pub fn run_with(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    let mut console = Console {
        out,
        err,
        closed: false,
    };
    match cli.command {
        Command::Sweep {
            scenario,
            set,
            replications,
            jobs,
            shard,
            out,
            quiet,
        } => {
            let result = sweep_command(
                &mut console,
                &scenario,
                set,
                replications,
                jobs,
                shard,
                &out,
                quiet,
            );
            console.report(result)
        }
        Command::Merge { dirs, out, quiet } => {
            let result = merge_command(&mut console, &dirs, &out, quiet);
            console.report(result)
        }
        Command::Size {
            scenario,
            goals,
            knobs,
            set,
            replications,
            pass_share,
            jobs,
            out,
            quiet,
        } => {
            let jobs = jobs_or_processors(jobs);
            let request = crate::size::Request {
                scenario: &scenario,
                sets: &set,
                goals,
                knobs,
                replications,
                pass_share,
                jobs,
                stop: None,
                note: None,
            };
            let result = size_command(&mut console, request, out.as_deref(), quiet);
            console.report(result)
        }
        Command::Diff { a, b } => {
            let result = crate::diff::diff(&a, &b).and_then(|text| console.print(&text));
            console.report(result)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "patchsim", &mut script);
            let result = console.print(&String::from_utf8_lossy(&script));
            console.report(result)
        }
        Command::Run {
            scenario,
            seed,
            set,
            out,
            busy_above,
            quiet,
            trace,
            trace_clients,
            check,
            force,
        } => {
            let trace = (trace || trace_clients.is_some()).then_some(trace_clients);
            let options = RunFlags {
                seed,
                sets: &set,
                busy_above: busy_above.map(u32::from),
                out: &out,
                quiet,
                trace,
                check,
                force,
            };
            match run_command(&mut console, scenario.as_deref(), options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let code = console.error(&e);
                    if let Error::Check(v) = &e {
                        let _ = writeln!(
                            console.err,
                            "  {}",
                            reproduce(scenario.as_deref(), seed, &set, v)
                        );
                    }
                    code
                }
            }
        }
        Command::Explain {
            scenario,
            client,
            deployment,
            seed,
            set,
            verbose,
        } => {
            let flags = app::FieldFlags::seed(seed);
            let result = app::load_runnable(scenario.as_deref(), flags, &set, false)
                .and_then(|estate| match client {
                    Client::Id(_) | Client::Beyond(_) if deployment.is_some() => {
                        Err(Error::BadExplainChoice(
                            "--deployment ranks the clients for --client slowest; with a client's \
                         id, leave it out"
                                .into(),
                        ))
                    }
                    Client::Id(c) => app::explain(&estate, c, verbose),
                    Client::Beyond(client) => Err(Error::NoSuchClient {
                        flag: "--client",
                        client,
                        clients: estate.client_count(),
                    }),
                    Client::Slowest => {
                        app::explain_slowest(&estate, deployment.as_deref(), verbose)
                    }
                })
                .and_then(|story| console.print(&story));
            console.report(result)
        }
        Command::Validate { scenarios, set } => {
            let mut worst = ExitCode::SUCCESS;
            for path in &scenarios {
                match app::load_runnable(Some(path), app::FieldFlags::default(), &set, false) {
                    Ok(estate) => {
                        // The deployments the file lays out (each phase
                        // one), then what its rules may add: a run makes
                        // only those its rules' runs find updates for.
                        let laid_out = (estate.deployments.iter())
                            .filter(|d| d.rule.is_none())
                            .count();
                        let rules = if estate.rules.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " and {} that may make up to {} more",
                                crate::output::plural(
                                    estate.rules.len(),
                                    "automatic deployment rule"
                                ),
                                estate.deployments.len() - laid_out
                            )
                        };
                        let mut line = format!(
                            "{}: ok ({}, {}{rules}, hash {}, needs about {} of memory)\n",
                            path.display(),
                            crate::output::counted(
                                u64::from(estate.client_count()),
                                "client",
                                "clients"
                            ),
                            crate::output::counted(laid_out as u64, "deployment", "deployments"),
                            estate.hash,
                            app::human_bytes(app::estimate_memory(&estate, false).bytes)
                        );
                        for w in app::warnings(&estate) {
                            line += &format!(
                                "  warning: {w}
"
                            );
                        }
                        if let Err(e) = console.print(&line) {
                            return console.error(&e);
                        }
                    }
                    // With several files, say which one an error that
                    // does not name its file (a --set one) is about.
                    Err(e)
                        if scenarios.len() > 1
                            && !e.to_string().contains(&*path.to_string_lossy()) =>
                    {
                        let _ = writeln!(console.err, "error: {}: {e}", path.display());
                        worst = exit_for(&e);
                    }
                    Err(e) => worst = console.error(&e),
                }
            }
            worst
        }
    }
}

/// The `run` flags, as the command line gave them.
struct RunFlags<'a> {
    seed: Option<u64>,
    sets: &'a [Override],
    busy_above: Option<u32>,
    out: &'a Path,
    quiet: bool,
    trace: Option<Option<Vec<u32>>>,
    check: bool,
    force: bool,
}

/// How to replay a broken law with its client traced.
fn reproduce(
    path: Option<&Path>,
    seed: Option<u64>,
    sets: &[Override],
    v: &crate::check::Violation,
) -> String {
    let mut line = format!("reproduce: patchsim run {}", app::origin(path, &[]));
    if let Some(seed) = seed {
        line += &format!(" --seed {seed}");
    }
    for set in sets {
        line += &format!(" --set '{set}'");
    }
    line += " --check";
    if let Some(c) = v.client {
        line += &format!(" --trace-clients {}", c.0);
    }
    line
}

fn run_command(
    console: &mut Console<'_>,
    path: Option<&Path>,
    flags: RunFlags<'_>,
) -> Result<(), Error> {
    let fields = app::FieldFlags {
        seed: flags.seed,
        busy_threshold_pct: flags.busy_above,
    };
    let estate = app::load_runnable(path, fields, flags.sets, flags.check)?;
    if !flags.quiet {
        for w in app::warnings(&estate) {
            let _ = writeln!(console.err, "warning: {w}");
        }
    }
    let interrupt = stop_signals();
    let end_ms = estate.end().as_ms();
    let bar = progress_bar(
        flags.quiet,
        Some(end_ms / 60_000),
        "{bar:40} simulated {msg}  eta {eta}",
    );
    let wall = Instant::now();
    let progress = |stats: crate::engine::RunStats| {
        let secs = wall.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(stats.now.as_ms() / 60_000);
        bar.set_message(format!(
            "{} · {:.0} events/s",
            output::format_duration(stats.now.as_hours_f64()),
            stats.events as f64 / secs
        ));
    };
    let request = app::RunRequest {
        trace: flags.trace,
        check: flags.check,
        interrupt: Some(interrupt),
        progress: Some(Progress {
            every: 100_000,
            report: Box::new(progress),
        }),
        force: flags.force,
        input: path,
        // The summary is printed before the output is put in place: if it
        // cannot be, the earlier output stays. The files are named once
        // they are in place.
        before_commit: (!flags.quiet).then(|| {
            let (bar, out, console) = (&bar, flags.out, &mut *console);
            Box::new(move |summary: &output::Summary, _: &[PathBuf]| {
                bar.finish_and_clear();
                console.print_before(&output::summary_text(summary, &[]), out)
            }) as app::BeforeCommit<'_>
        }),
    };
    let result = app::run_to_dir(&estate, flags.out, request);
    bar.finish_and_clear();
    let (_, files) = result?;
    if !flags.quiet {
        console.print(&output::written_text(&files))?;
    }
    Ok(())
}

/// A progress bar on standard error, drawn with `template`: of `len`
/// steps (`None`: a count without an end), hidden when `quiet` or when
/// standard error is not a terminal.
fn progress_bar(quiet: bool, len: Option<u64>, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Worker threads: as asked, or one per processor.
fn jobs_or_processors(jobs: Option<u32>) -> usize {
    jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    )
}

#[allow(clippy::too_many_arguments)]
fn sweep_command(
    console: &mut Console<'_>,
    path: &Path,
    set: Vec<Param>,
    replications: u32,
    jobs: Option<u32>,
    shard: Option<Shard>,
    out: &Path,
    quiet: bool,
) -> Result<(), Error> {
    let plan = study::plan(path, set, replications)?;
    if !quiet {
        for w in &plan.warnings {
            let _ = writeln!(console.err, "{}", w.line(plan.grid.point_count()));
        }
    }
    let interrupt = stop_signals();
    let runs = plan.run_ids(shard).len() as u64;
    let bar = progress_bar(
        quiet,
        Some(runs),
        "{bar:40} {pos}/{len} runs  {elapsed} elapsed  eta {eta}",
    );
    let console = std::cell::RefCell::new(console);
    let note = |text: &str| {
        bar.suspend(|| {
            let _ = writeln!(console.borrow_mut().err, "{text}");
        })
    };
    let request = app::SweepRequest {
        shard,
        jobs: jobs_or_processors(jobs),
        interrupt: Some(interrupt),
        done: &|| bar.inc(1),
        note: (!quiet).then_some(&note as &dyn Fn(&str)),
        // The table before the output is put in place (a failure to print
        // it leaves `out` as it was), the files once they are there.
        before_commit: (!quiet).then(|| {
            let (bar, console) = (&bar, &console);
            Box::new(move |result: &study::Study, _: &[PathBuf]| {
                bar.finish_and_clear();
                let text = if result.is_whole() {
                    study::table_text(result, &[])
                } else {
                    study::shard_text(result)
                };
                console.borrow_mut().print_before(&text, out)
            }) as app::BeforeCommitOf<'_, study::Study>
        }),
    };
    let result = app::sweep_to_dir(&plan, path, out, request);
    bar.finish_and_clear();
    let (result, files) = result?;
    if !quiet {
        console.borrow_mut().print(&if result.is_whole() {
            format!("\n{}", output::written_text(&files))
        } else {
            study::shard_written_text(&result, &files)
        })?;
    }
    Ok(())
}

fn merge_command(
    console: &mut Console<'_>,
    dirs: &[PathBuf],
    out: &Path,
    quiet: bool,
) -> Result<(), Error> {
    let interrupt = stop_signals();
    let before_commit = (!quiet).then(|| {
        let console = &mut *console;
        Box::new(move |whole: &study::Study, _: &[PathBuf]| {
            console.print_before(&study::table_text(whole, &[]), out)
        }) as app::BeforeCommitOf<'_, study::Study>
    });
    let (_, files) = app::merge_to_dir(dirs, out, Some(interrupt), before_commit)?;
    if !quiet {
        console.print(&format!("\n{}", output::written_text(&files)))?;
    }
    Ok(())
}

fn size_command(
    console: &mut Console<'_>,
    request: crate::size::Request<'_>,
    out: Option<&Path>,
    quiet: bool,
) -> Result<(), Error> {
    // Caught before the staging directory is made, so that a signal from
    // then on stops the search (as it stops a sweep) and is never the
    // default action.
    let interrupt = stop_signals();
    let bar = progress_bar(
        quiet,
        None,
        "{spinner} {pos} configurations run  {elapsed}  {msg}",
    );
    let console = std::cell::RefCell::new(console);
    let note = |text: &str| {
        bar.suspend(|| {
            let _ = writeln!(console.borrow_mut().err, "{text}");
        })
    };
    let request = crate::size::Request {
        stop: Some(interrupt),
        note: (!quiet).then_some(&note as &dyn Fn(&str)),
        ..request
    };
    let before_commit = (!quiet).then(|| {
        let (bar, console) = (&bar, &console);
        Box::new(move |sizing: &crate::size::Sizing, _: &[PathBuf]| {
            bar.finish_and_clear();
            let text = crate::size::size_text(sizing);
            let mut console = console.borrow_mut();
            match out {
                Some(dir) => console.print_before(&text, dir),
                None => console.print(&text),
            }
        }) as app::BeforeCommitOf<'_, crate::size::Sizing>
    });
    let done = |e: &crate::size::Evaluation| {
        bar.inc(1);
        bar.set_message(format!("{}: {}/{}", e.values.join(", "), e.met, e.runs));
    };
    let result = app::size_to_dir(&request, out, &done, before_commit);
    bar.finish_and_clear();
    let (_, files) = result?;
    if !quiet && out.is_some() {
        console
            .borrow_mut()
            .print(&crate::size::size_written_text(&files))?;
    }
    Ok(())
}

/// Which client `explain` tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Client {
    /// This one.
    Id(u32),
    /// The one that became compliant last.
    Slowest,
    /// A whole number too large to be any scenario's client, as written.
    Beyond(String),
}

fn parse_client(s: &str) -> Result<Client, String> {
    match s {
        "slowest" => Ok(Client::Slowest),
        _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s
            .parse()
            .map_or_else(|_| Client::Beyond(s.to_string()), Client::Id)),
        _ => Err(format!(
            "'{s}': expected a client's id (a whole number from 0) or 'slowest'"
        )),
    }
}
