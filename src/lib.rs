//! patchsim: a deterministic discrete-event simulator of a Configuration
//! Manager (SCCM/MECM) software-update estate.
//!
//! Data flows one way: scenario file → [`scenario`] (parse, validate) →
//! [`estate::Estate`] → [`model::run`] on the [`engine`] →
//! [`model::Outcome`] → [`output`] writers. The engine knows nothing of
//! SCCM; the estate knows neither the file format nor the live model; the
//! model writes no files; the writers run nothing. [`app`] wires these
//! steps for one command (with the law checker of [`check`] under
//! `--check`); [`study`] runs many; [`diff`] compares two outputs; [`size`] searches for the
//! cheapest configuration that meets a goal; the CLI ([`cli`]) only parses
//! arguments and calls them. `docs/architecture.md` has the module map.

#![deny(unsafe_code)]

pub mod app;
pub mod check;
pub mod cli;
pub mod diff;
pub mod engine;
pub mod error;
pub mod estate;
pub mod model;
pub mod output;
pub mod scenario;
pub mod size;
pub mod study;

pub use error::{Error, ScenarioError, StudyError};

/// The tool version written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
