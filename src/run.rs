//! One run of an estate that can be stopped between two events: by Ctrl-C
//! (a flag the CLI raises) or by the first broken law under `--check`.
//!
//! Owns [`run`] and [`Hooks`]: the model's run loop (as in
//! `model::run_traced`) driven through the engine's stop hook, with a
//! [`LawChecker`] fed from the trace when asked. The model itself knows
//! nothing of either; once its `RunOptions` carry a stop hook this file
//! keeps only the checking.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::check::{LawChecker, Violation};
use crate::engine::RunStats;
use crate::model::{self, Estate, Outcome, RunOptions, TraceRecord, Tracer};

/// What to do alongside a run.
pub struct Hooks<'a> {
    /// Call `progress` every this many events.
    pub progress_every: u64,
    /// Progress callback (must not touch simulated state).
    pub progress: Box<dyn FnMut(RunStats) + 'a>,
    /// The caller's trace (e.g. `trace.jsonl`), with its own client filter.
    pub tracer: Option<Tracer<'a>>,
    /// Verify the laws while the run goes; stop at the first violation.
    pub check: bool,
    /// Stop between two events once this reads true (Ctrl-C).
    pub interrupt: Option<&'a AtomicBool>,
}

impl Default for Hooks<'_> {
    fn default() -> Self {
        Hooks {
            progress_every: u64::MAX,
            progress: Box::new(|_| {}),
            tracer: None,
            check: false,
            interrupt: None,
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub enum Ended {
    /// It reached the end of the scenario (and, if checked, kept every law).
    Completed(Box<Outcome>),
    /// The interrupt flag was raised; nothing of the run is usable.
    Interrupted(RunStats),
    /// A law was broken (checked runs only).
    Broken(Box<Violation>),
}

/// Runs `estate` to its end, unless interrupted or a checked law breaks.
pub fn run<'a>(estate: &'a Estate, hooks: Hooks<'a>) -> Ended {
    let checker = hooks
        .check
        .then(|| Rc::new(RefCell::new(LawChecker::new(estate))));
    let tracer = match (&checker, hooks.tracer) {
        (None, tracer) => tracer,
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
    let interrupt = hooks.interrupt;
    let stop = || {
        interrupt.is_some_and(|f| f.load(Ordering::Relaxed))
            || checker
                .as_ref()
                .is_some_and(|c| c.borrow().violation().is_some())
    };
    let options = RunOptions {
        progress_every: hooks.progress_every,
        progress: hooks.progress,
        tracer,
        ..RunOptions::default()
    };
    // The world (and the tracer with the caller's sink) is dropped before
    // the caller looks at what its sink wrote.
    let outcome = match model::run_stoppable(estate, options, stop) {
        Ok(outcome) => outcome,
        Err(stats) => {
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
    match run(
        estate,
        Hooks {
            check: true,
            ..Hooks::default()
        },
    ) {
        Ended::Completed(outcome) => Ok(*outcome),
        Ended::Broken(v) => Err(v),
        Ended::Interrupted(_) => unreachable!("no interrupt flag"),
    }
}
