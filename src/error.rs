//! The crate's error types: bad scenario input, failures writing output, an
//! interrupted run and a broken law under `--check`.
//!
//! Messages are lower-case, name the place and say how to fix it. Bugs are
//! assertions, not errors.

use std::fmt;

use crate::app::MemoryEstimate;
use crate::check::Violation;
use crate::engine::SimTime;
use crate::scenario::Problem;

/// Anything the library can report to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario is unreadable or invalid (exit code 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A study's arguments or partial studies are wrong (exit code 2).
    #[error(transparent)]
    Study(#[from] StudyError),
    /// Writing an output failed (exit code 1).
    #[error("cannot write {path}: {source}{}", output_hint(source))]
    Output {
        /// The file or directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Standard output could not be written (exit code 1). A command
    /// that writes an output directory prints before it puts its output
    /// in place, so that directory (`out`) is as it was.
    #[error("cannot write standard output: {source}{}", unchanged_note(out.as_deref()))]
    Stdout {
        /// Why.
        source: std::io::Error,
        /// The output directory left as it was, if the command has one.
        out: Option<String>,
    },
    /// The output directory cannot take patchsim's files without losing
    /// someone else's (exit code 2): nothing is overwritten without `--force`.
    #[error("{path}: {reason}")]
    NotAnOutputDir {
        /// The directory.
        path: String,
        /// What is there and what to do.
        reason: String,
    },
    /// `explain --client` or `run --trace-clients` names a client the
    /// scenario does not have (exit code 2).
    #[error("{flag} {client}: no such client; the scenario has clients 0 to {}", clients - 1)]
    NoSuchClient {
        /// The flag that named it.
        flag: &'static str,
        /// The id asked for, as written.
        client: String,
        /// Clients in the scenario.
        clients: u32,
    },
    /// `explain --client slowest` ranks by a deployment the scenario does
    /// not have, or by one no client of which became compliant, or
    /// `--deployment` comes with a client id (exit code 2).
    #[error("{0}")]
    BadExplainChoice(String),
    /// A signal (Ctrl-C's SIGINT, SIGTERM, SIGHUP) stopped the command
    /// before its output was in place (exit code 128 + the signal's
    /// number); nothing was written.
    #[error(
        "interrupted by {} {during}; nothing was written (no partial outputs)",
        signal_name(*signal)
    )]
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// What the command was doing.
        during: During,
    },
    /// A law broke during a checked run (exit code 1);
    /// nothing was written.
    #[error("check failed: {0}")]
    Check(Box<Violation>),
}

/// What a command was doing when a signal stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum During {
    /// Simulating: the simulated time reached and the run's end.
    Run {
        /// Simulated time reached.
        at: SimTime,
        /// Where the run would have ended.
        end: SimTime,
    },
    /// Running a study: runs done of all.
    Study {
        /// Runs finished.
        done: usize,
        /// Runs of the study (or shard).
        runs: usize,
    },
    /// Searching for the cheapest configuration (`patchsim size`):
    /// configurations and runs finished.
    Sizing {
        /// Configurations evaluated whole.
        configurations: usize,
        /// Runs finished, over every configuration.
        runs: usize,
    },
    /// Writing the files, before they were put in place.
    Writing,
}

impl fmt::Display for During {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            During::Run { at, end } => write!(f, "at simulated time {at} of {end}"),
            During::Study { done, runs } => write!(f, "after {done} of {runs} runs"),
            During::Sizing {
                configurations,
                runs,
            } => write!(
                f,
                "while searching, after {configurations} configuration{} and {runs} run{}",
                if *configurations == 1 { "" } else { "s" },
                if *runs == 1 { "" } else { "s" }
            ),
            During::Writing => f.write_str("while the outputs were written"),
        }
    }
}

/// What to do about a failed write, for the errors a user can act on.
fn output_hint(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EROFS) => "; choose an --out on a writable file system",
        Some(libc::EACCES | libc::EPERM) => {
            "; choose an --out this user may write, or make it writable"
        }
        Some(libc::ENOSPC | libc::EDQUOT) => {
            "; free some space (the earlier output stays until the new one is complete, so both \
             must fit) or choose an --out on another file system"
        }
        _ => "",
    }
}

/// What a failure to print left of the command's output directory.
fn unchanged_note(out: Option<&str>) -> String {
    match out {
        Some(dir) => format!(
            "; nothing was written, {dir} is as it was (--quiet prints nothing to standard output)"
        ),
        None => String::new(),
    }
}

/// A signal's name, as `kill -l` gives it.
pub fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGINT => "SIGINT".to_string(),
        libc::SIGTERM => "SIGTERM".to_string(),
        libc::SIGHUP => "SIGHUP".to_string(),
        n => format!("signal {n}"),
    }
}

impl Error {
    /// Whether the user's input is at fault (exit code 2) rather than the
    /// machine or the simulator (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::Scenario(_)
                | Error::Study(_)
                | Error::NotAnOutputDir { .. }
                | Error::NoSuchClient { .. }
                | Error::BadExplainChoice(_)
        )
    }
}

/// What is wrong with a study's arguments or with the partial studies given
/// to merge.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// A `--set` argument names no field, or a value its field cannot take.
    #[error("--set {}: {message}", crate::scenario::clipped_arg(arg))]
    Set {
        /// The `PATH=VALUE` at fault.
        arg: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A `--knob` of `size` names no field, or a value its field cannot
    /// take.
    #[error("--knob {}: {message}", crate::scenario::clipped_arg(arg))]
    Knob {
        /// The `PATH=VALUE` at fault.
        arg: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The `--set` arguments do not make a grid (a path given twice, too
    /// many points).
    #[error("{0}")]
    Grid(String),
    /// A study file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A study file is not what `patchsim sweep` writes.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file, with a line number where there is one.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The partial studies given to merge do not make one study.
    #[error("{0}")]
    Merge(String),
}

/// What is wrong with a scenario.
#[derive(Debug)]
pub enum ScenarioError {
    /// The file cannot be read.
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The RON is malformed or does not match the format.
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The field being read (`cohorts[0].count`), or empty.
        path: String,
        /// What the parser said, with a hint.
        message: String,
    },
    /// Values are out of range or references do not resolve.
    Invalid {
        /// The file.
        file: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// A `--set` names no field, or a value its field cannot take.
    Set {
        /// The `PATH=VALUE` at fault.
        arg: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The run would need more memory than the machine has available.
    TooBig {
        /// The file.
        file: String,
        /// What the run would need.
        estimate: MemoryEstimate,
        /// Bytes the run may use: the smallest of the limits found.
        available: u64,
        /// Which limit that is (`MemAvailable in /proc/meminfo`, ...).
        limit: &'static str,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { file, source } => write!(f, "{file}: cannot read: {source}"),
            ScenarioError::Syntax {
                file,
                line,
                col,
                path,
                message,
            } => {
                write!(f, "{file}:{line}:{col}: ")?;
                if !path.is_empty() {
                    write!(f, "{path}: ")?;
                }
                f.write_str(&lowercase_first(message))
            }
            ScenarioError::Invalid { file, problems } => {
                let n = problems.len();
                write!(f, "{file}: {n} problem{}", if n == 1 { "" } else { "s" })?;
                for p in problems {
                    match p.at {
                        Some((line, col)) => write!(f, "\n  {file}:{line}:{col}: {p}")?,
                        None => write!(f, "\n  {p}")?,
                    }
                }
                Ok(())
            }
            ScenarioError::Set { arg, message } => {
                write!(f, "--set {}: {message}", crate::scenario::clipped_arg(arg))
            }
            ScenarioError::TooBig {
                file,
                estimate,
                available,
                limit,
            } => write!(
                f,
                "{file}: cohorts[].count: the run needs about {} of memory, more than the {} \
                 available ({limit}); {estimate}; \
                 use fewer clients (cohorts[].count), fewer cohorts or deployments, or a \
                 longer sample_interval, or run it on a machine with more memory",
                crate::app::human_bytes(estimate.bytes),
                crate::app::human_bytes(*available),
            ),
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
